import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { qmpCommand } from "../../src/vm/qmp.js";

const REPO = new URL("../../../", import.meta.url).pathname;
export const BERTH_VM = join(REPO, "dist/bin/berth-vm.js");
export const BERTHCTL = join(REPO, "dist/bin/berthctl.js");
export const SHARE = "/run/kata-containers/shared/containers";

const run = promisify(execFile);

/**
 * A mount namespace of the tests' own, held open by a sleeping process, with a fresh tmpfs on /run: the
 * share lives at Kata's path there (so host and guest agree on every path in it) and nothing of the
 * machine's /run is touched. Commands run in it through nsenter; its files are reached from here through
 * /proc/PID/root.
 */
export class ShareNamespace {
  readonly #holder: ChildProcess;
  readonly pid: number;

  private constructor(holder: ChildProcess) {
    this.#holder = holder;
    this.pid = holder.pid ?? 0;
  }

  static async open(): Promise<ShareNamespace> {
    const holder = spawn(
      "unshare",
      [
        "--mount",
        "--propagation",
        "private",
        "sh",
        "-c",
        `mount -t tmpfs -o size=1g,mode=755 berth-test /run && mkdir -p ${SHARE} && echo ready && exec sleep 100000`,
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    await new Promise<void>((resolve, reject) => {
      holder.once("error", reject);
      holder.once("exit", (code) => reject(new Error(`the namespace holder exited (${code})`)));
      holder.stdout?.once("data", () => resolve());
    });
    return new ShareNamespace(holder);
  }

  /** A path of the namespace, as seen from outside it. */
  path(inside: string): string {
    return `/proc/${this.pid}/root${inside}`;
  }

  /** argv run inside the namespace. */
  command(argv: readonly string[]): string[] {
    return ["nsenter", `--mount=/proc/${this.pid}/ns/mnt`, "--", ...argv];
  }

  async exec(argv: readonly string[], timeoutMs = 240_000): Promise<{ stdout: string; stderr: string }> {
    const [command = "", ...args] = this.command(argv);
    return run(command, args, { timeout: timeoutMs, maxBuffer: 16 << 20 });
  }

  close(): void {
    this.#holder.kill("SIGKILL");
  }
}

export interface VmHandle {
  dir: string;
  agentSocket: string;
  qmpSocket: string;
  pidFile: string;
  log: string;
  storageJson: string;
  qemuPid: number;
  startMs: number;
}

/** `berth-vm start` in the namespace, with its sockets in a temp dir. */
export async function startVm(ns: ShareNamespace, extra: readonly string[] = []): Promise<VmHandle> {
  const dir = mkdtempSync(join(tmpdir(), "berth-vm-test-"));
  const vm = {
    dir,
    agentSocket: join(dir, "agent.sock"),
    qmpSocket: join(dir, "qmp.sock"),
    pidFile: join(dir, "qemu.pid"),
    log: join(dir, "vm.log"),
  };
  const started = Date.now();
  let stdout: string;
  try {
    ({ stdout } = await ns.exec([
      process.execPath,
      BERTH_VM,
      "start",
      "--agent-socket",
      vm.agentSocket,
      "--qmp-socket",
      vm.qmpSocket,
      "--share",
      SHARE,
      "--pid-file",
      vm.pidFile,
      "--log",
      vm.log,
      ...extra,
    ]));
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const lines = stdout.trim().split("\n");
  return {
    ...vm,
    storageJson: lines.at(-1) ?? "",
    qemuPid: Number(readFileSync(vm.pidFile, "utf8")),
    startMs: Date.now() - started,
  };
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.startsWith("Z");
  } catch {
    return false;
  }
}

export async function waitGone(pid: number, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (alive(pid)) {
    if (Date.now() > end) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}

/** Whatever happens, no QEMU of the test outlives it. */
export function killVm(vm: VmHandle | undefined): void {
  if (!vm) return;
  for (const pid of [vm.qemuPid, ...proxyPids(vm.agentSocket)]) {
    if (alive(pid)) process.kill(pid, "SIGKILL");
  }
  rmSync(vm.dir, { recursive: true, force: true });
}

/** Pids of the proxies serving `agentSocket` (`berth-vm proxy … --agent-socket PATH`). */
export function proxyPids(agentSocket: string): number[] {
  const needle = `\0proxy\0`;
  const socket = `\0--agent-socket\0${agentSocket}\0`;
  const out: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8");
      if (cmdline.includes(needle) && cmdline.includes(socket) && alive(Number(entry)))
        out.push(Number(entry));
    } catch {}
  }
  return out;
}

/** Where a hot-plugged disk goes: a slot of pci-bridge-0, the root port rp0, or a LUN of scsi0's target 0. */
export type DiskPlace = { bridgeSlot: number } | { rootPort: true } | { scsiLun: number };

/** Hot-plugs `file` as disk `id` (QMP blockdev-add + device_add, as Kata's runtime does). */
export async function plugDisk(vm: VmHandle, id: string, file: string, place: DiskPlace): Promise<void> {
  await qmpCommand(vm.qmpSocket, "blockdev-add", {
    driver: "raw",
    "node-name": `drive-${id}`,
    file: { driver: "file", filename: file },
  });
  const device =
    "scsiLun" in place
      ? { driver: "scsi-hd", bus: "scsi0.0", "scsi-id": 0, lun: place.scsiLun }
      : "rootPort" in place
        ? { driver: "virtio-blk-pci", bus: "rp0" }
        : {
            driver: "virtio-blk-pci",
            bus: "pci-bridge-0",
            addr: place.bridgeSlot.toString(16).padStart(2, "0"),
          };
  await qmpCommand(vm.qmpSocket, "device_add", { ...device, id, drive: `drive-${id}` });
}

/** Unplugs device `id` and waits until QEMU has let it go (the guest acknowledged the ACPI eject). */
export async function unplug(vm: VmHandle, id: string, drive?: string): Promise<void> {
  await qmpCommand(vm.qmpSocket, "device_del", { id });
  const end = Date.now() + 20_000;
  for (;;) {
    const peripherals = (await qmpCommand(vm.qmpSocket, "qom-list", { path: "/machine/peripheral" })) as {
      name: string;
    }[];
    if (!peripherals.some((p) => p.name === id)) break;
    if (Date.now() > end) throw new Error(`QEMU still has ${id} 20 s after device_del`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  if (drive) await qmpCommand(vm.qmpSocket, "blockdev-del", { "node-name": drive });
}
