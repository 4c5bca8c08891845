import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatCpuList } from "../sys/cpus.js";

/**
 * The CPU and memory parts of a guest's sysfs in a temp dir: `devices/system/cpu/{online,possible,cpuN/online}`
 * (cpu0 without an online file, as on x86) and `devices/system/memory/memoryN/online`. Plain files do not
 * react to writes: `tick` does what the kernel would, listing each CPU whose `online` reads 1 as online;
 * `startKernel` ticks every few milliseconds.
 */
export class FakeGuestSysfs {
  readonly root = mkdtempSync(join(tmpdir(), "berth-fake-guest-sysfs-"));
  readonly cpuDir = join(this.root, "devices/system/cpu");
  readonly memoryDir = join(this.root, "devices/system/memory");
  #timer: NodeJS.Timeout | undefined;

  /** CPUs 0..`present`-1, those in `online` online; `possible` (default all present) for the kernel's limit. */
  constructor(o: { present: number; online: readonly number[]; possible?: string }) {
    mkdirSync(this.cpuDir, { recursive: true });
    writeFileSync(join(this.cpuDir, "possible"), `${o.possible ?? `0-${o.present - 1}`}\n`);
    for (let n = 0; n < o.present; n++) this.plugCpu(n, o.online.includes(n));
    this.setOnline(o.online);
  }

  /** A CPU directory appears, as a hot-plugged vCPU's does (offline unless `online`). */
  plugCpu(n: number, online = false): void {
    mkdirSync(join(this.cpuDir, `cpu${n}`), { recursive: true });
    if (n > 0) writeFileSync(join(this.cpuDir, `cpu${n}/online`), online ? "1\n" : "0\n");
  }

  /** Replaces the online list in one step, as the kernel's file never shows half a list. */
  setOnline(cpus: readonly number[]): void {
    writeFileSync(join(this.root, "online.new"), `${formatCpuList(cpus)}\n`);
    renameSync(join(this.root, "online.new"), join(this.cpuDir, "online"));
  }

  onlineList(): string {
    return readFileSync(join(this.cpuDir, "online"), "utf8").trim();
  }

  /** What `cpuN/online` (or `memoryN/online`) holds. */
  state(unit: string): string {
    const dir = unit.startsWith("cpu") ? this.cpuDir : this.memoryDir;
    return readFileSync(join(dir, unit, "online"), "utf8").trim();
  }

  /** Memory blocks, each online or not. */
  memory(blocks: Record<number, boolean>): void {
    for (const [n, online] of Object.entries(blocks)) {
      mkdirSync(join(this.memoryDir, `memory${n}`), { recursive: true });
      writeFileSync(join(this.memoryDir, `memory${n}/online`), online ? "1\n" : "0\n");
    }
  }

  /** The kernel's part: every CPU whose `online` file reads 1 (and cpu0) is listed online. */
  tick(): void {
    const cpus = readdirSync(this.cpuDir)
      .filter((name) => /^cpu\d+$/.test(name))
      .map((name) => Number(name.slice(3)))
      .filter((n) => {
        const file = join(this.cpuDir, `cpu${n}/online`);
        return !existsSync(file) || readFileSync(file, "utf8").trim() === "1";
      });
    this.setOnline(cpus);
  }

  startKernel(everyMs = 5): void {
    this.#timer = setInterval(() => this.tick(), everyMs);
  }

  close(): void {
    clearInterval(this.#timer);
    rmSync(this.root, { recursive: true, force: true });
  }
}
