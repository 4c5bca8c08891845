import { createRequire } from "node:module";
import { join } from "node:path";
import { packageDir } from "../package-dir.js";

/** The functions of berth's native addon (native/; listed in native/addon.c). */
export interface NativeAddon {
  vsockListen(cid: number, port: number, backlog: number): number;
  unixListen(address: Buffer, backlog: number): number;
  pipe(): [readFd: number, writeFd: number];
  setChildSubreaper(): void;
  /** malloc_trim(0): the C heap's free pages back to the kernel; true when any were. */
  trimMemory(): boolean;
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
  /** A pending connection of a listening socket (non-blocking, close-on-exec), or null when none waits. */
  acceptConnection(listenFd: number): number | null;
  /**
   * The one fd a connected unix socket sends (SCM_RIGHTS), made close-on-exec and O_NONBLOCK, or null when
   * nothing has arrived yet; never waits. End of stream or any other message is EBADMSG (fds it carried
   * are closed).
   */
  receiveFd(socketFd: number): number | null;
  dup(fd: number): number;
  setHostname(name: string): void;
  interfaceUp(name: string): void;
  /** sync(2), then power off or reboot; returns only if that failed (it throws then). */
  shutdown(action: "poweroff" | "reboot"): void;
  vsockConnect(cid: number, port: number): Promise<number>;
  unixConnect(address: Buffer): Promise<number>;
  setWindowSize(fd: number, rows: number, columns: number): void;
  readableBytes(fd: number): number;
  /** O_NONBLOCK on the fd's file description (every fd sharing it, dups included). */
  setNonBlocking(fd: number): void;
  setPipeSize(fd: number, bytes: number): number;
  /**
   * Whether the mount table behind a /proc/<pid>/mountinfo fd changed since the fd was opened or this was
   * last asked of it (poll(2) for POLLPRI, no wait). Always false for a file that is not one.
   */
  mountsChanged(fd: number): boolean;
  /**
   * posix_spawn(3) of `file` (a path: no PATH search) with `argv` and `env` ("K=V"), `stdio` as its fds 0-2,
   * signals default and unblocked, in `cwd`, and in a process group of its own when asked. Returns its pid
   * and a pidfd (close-on-exec) that polls readable once it has exited.
   */
  spawnProcess(
    file: string,
    argv: readonly string[],
    env: readonly string[],
    stdio: Int32Array,
    cwd: string | null,
    newProcessGroup: boolean,
  ): [pid: number, pidfd: number];
  /** Reaps child `pid` if it has exited (waitid, no wait): [exitCode, signal], the other -1; else null. */
  reapProcess(pid: number): [exitCode: number, signal: number] | null;
  /** settimeofday(2) with no timezone; the kernel checks the values (EINVAL) and CAP_SYS_TIME (EPERM). */
  setTimeOfDay(sec: number, usec: number): void;
  /** RNDADDENTROPY on /dev/random crediting 8 bits a byte, then RNDRESEEDCRNG; both need CAP_SYS_ADMIN. */
  addEntropy(data: Uint8Array): void;
  /** openat2(2), O_CLOEXEC added; resolves with the new fd. */
  openat2(dirFd: number, path: string, flags: number, mode: number, resolve: number): Promise<number>;
  mkdirat(dirFd: number, name: string, mode: number): Promise<0>;
  symlinkat(target: string, dirFd: number, name: string): Promise<0>;
  /** renameat(2) from one name to another in the same directory. */
  renameat(dirFd: number, from: string, to: string): Promise<0>;
  unlinkat(dirFd: number, name: string, flags: number): Promise<0>;
  fchownat(dirFd: number, name: string, uid: number, gid: number, flags: number): Promise<0>;
  readonly constants: NativeConstants;
  /** eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK). */
  eventfd(): number;
  /**
   * Polls `fd` on Node's own event loop (no thread; it does not keep the process alive): `onReady` runs each
   * time the fd is ready for one of `events` (constants.POLL_READABLE, POLL_WRITABLE; 0 polls for nothing)
   * and must act on it, or it runs again. The poll is on a duplicate of `fd`: `fd` stays the caller's, and
   * closing it before `stop` is harmless.
   */
  pollFd(fd: number, events: number, onReady: (error?: Error) => void): FdPoll;
  /**
   * An AF_NETLINK raw socket of `protocol`, non-blocking and close-on-exec, bound to the multicast `groups`
   * (a bit mask) with its receive buffer set to `receiveBytes` (0 keeps the kernel's default).
   */
  netlinkOpen(protocol: number, groups: number, receiveBytes: number): number;
  /** Sends one datagram to the kernel; false when the send buffer is full. */
  netlinkSend(fd: number, datagram: Buffer): boolean;
  /**
   * One datagram into `buffer`: its full length (past buffer.length: it was cut) and the sender's port (0:
   * the kernel), or null when none waits. Throws ENOBUFS once after the receive queue overflowed.
   */
  netlinkReceive(fd: number, buffer: Buffer): [length: number, port: number] | null;
}

/** A poll made by pollFd; its methods must be called on it (not detached). */
export interface FdPoll {
  /** Polls for `events` from now on; 0 pauses the poll (no callbacks) until a later call. */
  setEvents(events: number): void;
  /** Ends the poll for good (it may be called more than once; setEvents then does nothing). */
  stop(): void;
}

/** Flag values from the kernel and libuv headers the addon was built against (Node's fs.constants lacks these). */
export interface NativeConstants {
  readonly O_PATH: number;
  readonly AT_FDCWD: number;
  readonly AT_REMOVEDIR: number;
  readonly AT_SYMLINK_NOFOLLOW: number;
  readonly RESOLVE_BENEATH: number;
  readonly RESOLVE_NO_SYMLINKS: number;
  readonly RESOLVE_NO_MAGICLINKS: number;
  /** pollFd's events (libuv's UV_READABLE and UV_WRITABLE). */
  readonly POLL_READABLE: number;
  readonly POLL_WRITABLE: number;
}

/** node-gyp's output directory. */
function buildDir(): string {
  return join(packageDir(), "build", "Release");
}

/** The pause program that holds a sandbox's shared PID namespace (native/berth_pause.c). */
export function pauseBinary(): string {
  return join(buildDir(), "berth-pause");
}

let addon: NativeAddon | undefined;

/** Loads the addon on first use, so code that never needs it runs without it. */
export function native(): NativeAddon {
  if (!addon) {
    const path = join(buildDir(), "berth_native.node");
    try {
      addon = createRequire(path)(path) as NativeAddon;
    } catch (error) {
      throw new Error(`cannot load berth's native addon (${path}); run "npm ci" to build it`, {
        cause: error,
      });
    }
  }
  return addon;
}
