import { AgentError, Code } from "../errors.js";
import type { Logger } from "../log.js";
import { abortReason } from "../sys/abort.js";
import { pathExists } from "../sys/path-exists.js";
import type { DeviceMatcher } from "./matchers.js";
import { SysfsDevices } from "./sysfs-devices.js";
import type { Uevent } from "./uevent.js";

export interface DeviceRegistryOptions {
  log: Logger;
  /** sysfs root (default /sys). */
  sysfs?: string;
  /** Where device nodes are (default /dev): a device found in sysfs counts once its node is there. */
  devfs?: string;
  /** Waits at once (default 256); past it RESOURCE_EXHAUSTED. */
  maxWaiters?: number;
  /**
   * With no uevent source (the netlink socket could not be opened), how often waiters look at sysfs again;
   * with one, only a lost event (a full socket queue) makes them look again.
   */
  pollMs?: number;
}

export interface DeviceWaitOptions {
  timeoutMs: number;
  signal?: AbortSignal | undefined;
}

/** Waits for devices: what device handlers, block storages and hot-plugged NICs are given. */
export interface DeviceWaiter {
  waitFor(matcher: DeviceMatcher, options: DeviceWaitOptions): Promise<Uevent>;
}

interface Waiter {
  matcher: DeviceMatcher;
  resolve(event: Uevent): void;
}

const MAX_REMOVED = 1024;

/**
 * The devices of the guest as the kernel announces them: one per agent, fed by the uevent listener.
 * A wait registers first and then looks in sysfs, so an event that lands during the look is seen by the
 * registration, and a device that was there before (cold-plugged at boot, or announced before anyone
 * waited) is found without an event at all. A device whose `remove` was announced does not count as
 * present while sysfs still shows it, so a slot being re-used never resolves to the disk that left it.
 */
export class DeviceRegistry implements DeviceWaiter {
  readonly sysfs: SysfsDevices;
  readonly #log: Logger;
  readonly #devfs: string;
  readonly #maxWaiters: number;
  readonly #pollMs: number;
  readonly #waiters = new Set<Waiter>();
  /** Devpaths announced removed and not added since (oldest first, bounded). */
  readonly #removed = new Set<string>();
  readonly #addListeners: ((event: Uevent) => void)[] = [];
  #events = false;
  #poll: NodeJS.Timeout | undefined;

  constructor(options: DeviceRegistryOptions) {
    this.#log = options.log;
    this.sysfs = new SysfsDevices(options.sysfs ?? "/sys");
    this.#devfs = options.devfs ?? "/dev";
    this.#maxWaiters = options.maxWaiters ?? 256;
    this.#pollMs = options.pollMs ?? 100;
  }

  /** Tells the registry that a uevent source feeds it from now on (or no longer). */
  setEventSource(active: boolean): void {
    this.#events = active;
    this.#schedulePoll();
    if (!active) this.rescan();
  }

  /** Calls `listener` with every `add` event from now on, after the waits it ends (a memory block to online). */
  onAdd(listener: (event: Uevent) => void): void {
    this.#addListeners.push(listener);
  }

  /** One uevent from the kernel. */
  handle(event: Uevent): void {
    if (event.action === "remove") {
      this.#removed.delete(event.devpath);
      this.#removed.add(event.devpath);
      if (this.#removed.size > MAX_REMOVED) this.#removed.delete(this.#removed.values().next().value ?? "");
      return;
    }
    if (event.action !== "add") return;
    for (const removed of this.#removed) {
      if (event.devpath === removed || removed.startsWith(`${event.devpath}/`)) this.#removed.delete(removed);
    }
    for (const waiter of this.#waiters) {
      if (waiter.matcher.matches(event)) waiter.resolve(event);
    }
    for (const listener of this.#addListeners) {
      try {
        listener(event);
      } catch (error) {
        this.#log.error({ err: error, devpath: event.devpath }, "a uevent listener failed");
      }
    }
  }

  /** Events may have been lost (the socket's queue overflowed): every waiter looks in sysfs again. */
  rescan(): void {
    for (const waiter of this.#waiters) void this.#look(waiter);
  }

  /**
   * The event of the device `matcher` describes: at once when it is present, else when the kernel
   * announces it; DEADLINE_EXCEEDED naming it after `timeoutMs`, the abort's reason on abort.
   */
  waitFor(matcher: DeviceMatcher, { timeoutMs, signal }: DeviceWaitOptions): Promise<Uevent> {
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    if (this.#waiters.size >= this.#maxWaiters) {
      return Promise.reject(
        new AgentError(
          Code.RESOURCE_EXHAUSTED,
          `${this.#waiters.size} calls are waiting for devices already`,
        ),
      );
    }
    const started = performance.now();
    return new Promise<Uevent>((resolve, reject) => {
      const finish = (error: AgentError | undefined, event?: Uevent) => {
        if (!this.#waiters.delete(waiter)) return;
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        this.#schedulePoll();
        if (error || !event) {
          reject(error);
          return;
        }
        this.#log.info(
          {
            device: matcher.description,
            devpath: event.devpath,
            waited_ms: Math.round(performance.now() - started),
            // CLOCK_MONOTONIC, as the kernel's log stamps its lines: when berth had the device.
            monotonic_us: Number(process.hrtime.bigint() / 1000n),
          },
          event.seqnum === 0 ? "device present" : "device announced",
        );
        resolve(event);
      };
      const waiter: Waiter = { matcher, resolve: (event) => finish(undefined, event) };
      const timer = setTimeout(
        () =>
          finish(
            new AgentError(
              Code.DEADLINE_EXCEEDED,
              `timed out after ${timeoutMs} ms waiting for ${matcher.description}`,
            ),
          ),
        timeoutMs,
      );
      const onAbort = () => finish(signal ? abortReason(signal) : undefined);
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#waiters.add(waiter);
      this.#schedulePoll();
      void this.#look(waiter);
    });
  }

  async #look(waiter: Waiter): Promise<void> {
    let event: Uevent | undefined;
    try {
      event = await waiter.matcher.present(this.sysfs);
    } catch (error) {
      this.#log.warn({ err: error, device: waiter.matcher.description }, "cannot look for a device in sysfs");
      return;
    }
    if (!event || this.#wasRemoved(event.devpath) || !waiter.matcher.matches(event)) return;
    if (event.devname !== "" && !(await pathExists(`${this.#devfs}/${event.devname}`))) return;
    if (this.#waiters.has(waiter)) waiter.resolve(event);
  }

  #wasRemoved(devpath: string): boolean {
    for (const removed of this.#removed) {
      if (devpath === removed || devpath.startsWith(`${removed}/`)) return true;
    }
    return false;
  }

  #schedulePoll(): void {
    const wanted = !this.#events && this.#waiters.size > 0;
    if (wanted && !this.#poll) {
      this.#poll = setInterval(() => this.rescan(), this.#pollMs);
      this.#poll.unref();
    } else if (!wanted && this.#poll) {
      clearInterval(this.#poll);
      this.#poll = undefined;
    }
  }
}
