import type { StatsFs } from "node:fs";
import { statfs } from "node:fs/promises";
import { AgentError, Code } from "../errors.js";
import type { Logger } from "../log.js";
import { settlesWithin } from "../sys/abort.js";
import { type MountTable, mountTable } from "../sys/mount-table.js";
import type { MountInfo } from "../sys/mountinfo.js";
import { readKernelFileSync } from "../sys/read-kernel-file.js";
import { MetricFamilies } from "./families.js";
import { type MeasuredFilesystem, measuredFilesystems, usageItems } from "./filesystems.js";
import { SOURCES } from "./sources.js";

const STATFS_BOUND_MS = 1000;
const MOUNTINFO = "self/mountinfo";

export interface GuestMetricsDeps {
  /** The procfs root (Kata's: /proc); the agent's own figures are read from its `self/`. */
  procfs: string;
  log: Logger;
  /** statfs(2) of a mount point; default fs.promises.statfs. */
  statfs?: (path: string) => Promise<StatsFs>;
  /** How long a scrape waits for one filesystem's statfs before leaving it out (default 1 s). */
  statfsBoundMs?: number;
}

/**
 * GetMetrics: the agent's and the guest's figures as Kata's agent exports them, read fresh from procfs at
 * each scrape. No process, no lock, no sandbox state. The procfs files are read synchronously (see
 * readKernelFileSync), the filesystems' statfs(2) calls run on the thread pool meanwhile, each bounded;
 * the mount table, whose text costs most to make, is read again only when it changed (MountTable).
 * A source that cannot be read leaves its families out of that scrape (logged once until it reads again);
 * the scrape fails only when not one source could be read: procfs is not there.
 */
export class GuestMetrics {
  readonly #deps: GuestMetricsDeps;
  readonly #statfs: (path: string) => Promise<StatsFs>;
  readonly #families = new MetricFamilies();
  /** Sources whose failure was logged, until they read again. */
  readonly #failing = new Set<string>();
  /** Mount points whose statfs has not returned: a hung filesystem holds a thread-pool thread, not two. */
  readonly #statfsPending = new Set<string>();
  readonly #mounts: MountTable;
  /** The filesystems measured, as found in the mount table last read. */
  #measured: { mounts: readonly MountInfo[]; filesystems: MeasuredFilesystem[] } | undefined;

  constructor(deps: GuestMetricsDeps) {
    this.#deps = deps;
    this.#statfs = deps.statfs ?? ((path) => statfs(path));
    this.#mounts = mountTable(`${deps.procfs}/${MOUNTINFO}`);
  }

  /** The text exposition (format 0.0.4) of every family that could be read. */
  async scrape(): Promise<string> {
    const sink = this.#families.scrape();
    const errors: unknown[] = [];
    const filesystems = this.#filesystems(errors);
    let sources = 0;
    for (const source of SOURCES) {
      const text = this.#read(source.file, errors);
      if (text === undefined) continue;
      if (!source.write(text, sink)) {
        this.#failed(source.file, new Error(`unexpected text ${JSON.stringify(text.slice(0, 80))}`));
        continue;
      }
      this.#failing.delete(source.file);
      sources++;
    }
    const measured = await filesystems;
    if (measured) sources++;
    for (const { mount, device, bytes, inodes } of measured ?? []) {
      sink.items("kata_guest_filesystem_bytes", { mount, device }, bytes);
      sink.items("kata_guest_filesystem_inodes", { mount, device }, inodes);
    }
    if (sources === 0) {
      // INTERNAL, never NOT_FOUND: that code would make the shim stop asking for good.
      throw new AgentError(Code.INTERNAL, `cannot read any metrics source under ${this.#deps.procfs}`, {
        cause: errors[0],
      });
    }
    return sink.text();
  }

  #read(file: string, errors: unknown[]): string | undefined {
    try {
      return readKernelFileSync(`${this.#deps.procfs}/${file}`);
    } catch (error) {
      errors.push(error);
      this.#failed(file, error);
      return undefined;
    }
  }

  #failed(what: string, error: unknown): void {
    if (this.#failing.has(what)) return;
    this.#failing.add(what);
    this.#deps.log.debug({ source: what, err: error }, "a metrics source failed: its families are left out");
  }

  /**
   * The usage of each filesystem measured (those whose statfs answered in time); undefined when the mount
   * table cannot be read.
   */
  async #filesystems(errors: unknown[]) {
    let mounts: readonly MountInfo[];
    try {
      mounts = await this.#mounts.mounts();
    } catch (error) {
      errors.push(error);
      this.#failed(MOUNTINFO, error);
      return undefined;
    }
    this.#failing.delete(MOUNTINFO);
    if (this.#measured?.mounts !== mounts)
      this.#measured = { mounts, filesystems: measuredFilesystems(mounts) };
    const measured = this.#measured.filesystems;
    const usages = await Promise.all(measured.map((fs) => this.#usage(fs)));
    return measured.flatMap((fs, i) => {
      const usage = usages[i];
      return usage ? [{ ...fs, ...usage }] : [];
    });
  }

  /** One filesystem's usage, or undefined when its statfs fails, hangs past the bound, or still hangs. */
  async #usage(fs: MeasuredFilesystem): Promise<ReturnType<typeof usageItems> | undefined> {
    const what = `statfs ${fs.mount}`;
    if (this.#statfsPending.has(fs.mount)) return undefined;
    this.#statfsPending.add(fs.mount);
    const call = this.#statfs(fs.mount).finally(() => this.#statfsPending.delete(fs.mount));
    const boundMs = this.#deps.statfsBoundMs ?? STATFS_BOUND_MS;
    if (!(await settlesWithin(call, boundMs))) {
      call.catch(() => {});
      if (!this.#failing.has(what)) {
        this.#failing.add(what);
        this.#deps.log.warn(
          { mount: fs.mount, bound_ms: boundMs },
          "statfs of a filesystem did not return: its usage is left out until it does",
        );
      }
      return undefined;
    }
    try {
      const usage = usageItems(await call);
      this.#failing.delete(what);
      return usage;
    } catch (error) {
      this.#failed(what, error);
      return undefined;
    }
  }
}
