import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The functions of berth's native addon (native/berth_native.c). */
export interface NativeAddon {
  vsockListen(cid: number, port: number, backlog: number): number;
  unixListen(address: Buffer, backlog: number): number;
  pipe(): [readFd: number, writeFd: number];
  setChildSubreaper(): void;
  /** Each reaped child as [pid, exitCode, signal]; the one that does not apply is -1. */
  reapChildren(excluded: Int32Array): { reaped: [number, number, number][]; blocked: boolean };
  mount(
    source: string | null,
    target: string,
    fstype: string | null,
    flags: number,
    data: string | null,
  ): Promise<0>;
  umount(target: string, flags: number): Promise<0>;
  receiveFd(listenFd: number, timeoutMs: number): Promise<number>;
  dup(fd: number): number;
  setHostname(name: string): void;
  interfaceUp(name: string): void;
  /** sync(2), then power off or reboot; returns only if that failed (it throws then). */
  shutdown(action: "poweroff" | "reboot"): void;
  vsockConnect(cid: number, port: number): Promise<number>;
  unixConnect(address: Buffer): Promise<number>;
  setWindowSize(fd: number, rows: number, columns: number): void;
  readableBytes(fd: number): number;
  setPipeSize(fd: number, bytes: number): number;
  /** eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK). */
  eventfd(): number;
  /**
   * Polls `fd` on Node's own event loop (no thread; it does not keep the process alive): `onReadable` runs
   * each time the fd is readable and must read it, or it runs again. Returns `stop`, which ends the poll (it
   * may be called more than once); the fd stays open.
   */
  pollReadable(fd: number, onReadable: (error?: Error) => void): () => void;
}

/**
 * node-gyp's output directory, found from the package root (the first directory up from this module
 * with a binding.gyp), so it is the same whether this module runs from dist/src/sys or bundled into
 * dist/bin.
 */
function buildDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "binding.gyp"))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error("cannot find berth's package root (no binding.gyp above it)");
    dir = parent;
  }
  return join(dir, "build", "Release");
}

const BUILD_DIR = buildDir();

/** The pause program that holds a sandbox's shared PID namespace (native/berth_pause.c). */
export const PAUSE_BINARY = join(BUILD_DIR, "berth-pause");

let addon: NativeAddon | undefined;

/** Loads the addon on first use, so code that never needs it runs without it. */
export function native(): NativeAddon {
  if (!addon) {
    const path = join(BUILD_DIR, "berth_native.node");
    try {
      addon = createRequire(import.meta.url)(path) as NativeAddon;
    } catch (error) {
      throw new Error(`cannot load berth's native addon (${path}); run "npm ci" to build it`, {
        cause: error,
      });
    }
  }
  return addon;
}
