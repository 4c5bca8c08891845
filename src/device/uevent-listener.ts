import { AgentError, Code } from "../errors.js";
import type { Logger } from "../log.js";
import { NETLINK_KOBJECT_UEVENT, NetlinkReceiveError, NetlinkSocket } from "../sys/netlink-socket.js";
import type { DeviceRegistry } from "./device-registry.js";
import { MAX_UEVENT_BYTES, parseUevent } from "./uevent.js";

/** The kernel's own multicast group (udev re-broadcasts on group 2, which berth does not join). */
const KERNEL_GROUP = 1;
/** Room for the bursts a large memory hotplug makes (a thousand blocks at once; Kata lost events at 256). */
const RECEIVE_BYTES = 4 << 20;

/**
 * The agent's one NETLINK_KOBJECT_UEVENT socket, for its whole life: each kernel uevent goes to the
 * registry; a full receive queue (ENOBUFS) makes the registry look in sysfs again instead of waiting for
 * events that will never come. Without the socket (not root, no netlink), the registry polls sysfs.
 */
export class UeventListener {
  readonly #registry: DeviceRegistry;
  readonly #log: Logger;
  #socket: NetlinkSocket | undefined;

  private constructor(registry: DeviceRegistry, log: Logger) {
    this.#registry = registry;
    this.#log = log;
  }

  static start(registry: DeviceRegistry, log: Logger): UeventListener {
    const listener = new UeventListener(registry, log);
    listener.#open();
    return listener;
  }

  #open(): void {
    try {
      this.#socket = NetlinkSocket.open(NETLINK_KOBJECT_UEVENT, {
        groups: KERNEL_GROUP,
        receiveBytes: RECEIVE_BYTES,
        datagramBytes: MAX_UEVENT_BYTES,
      });
    } catch (error) {
      this.#log.warn({ err: error }, "no uevent socket: device waits look in sysfs every 100 ms instead");
      this.#registry.setEventSource(false);
      return;
    }
    this.#socket.listen((error) => (error ? this.#failed(error) : this.#drain()));
    this.#registry.setEventSource(true);
  }

  #drain(): void {
    const socket = this.#socket;
    if (!socket) return;
    try {
      socket.drain((datagram, port) => {
        if (port !== 0) return;
        const event = parseUevent(datagram);
        if (event) this.#registry.handle(event);
        else this.#log.debug({ bytes: datagram.length }, "dropped a datagram that is not a kernel uevent");
      });
    } catch (error) {
      const lost =
        (error instanceof NetlinkReceiveError && error.errno === "ENOBUFS") ||
        (error instanceof AgentError && error.code === Code.DATA_LOSS);
      if (lost) {
        this.#log.warn({ err: error }, "uevents were lost: looking in sysfs again");
        this.#registry.rescan();
        return;
      }
      this.#failed(error);
    }
  }

  #failed(error: unknown): void {
    this.#log.error({ err: error }, "the uevent socket failed: reopening it");
    this.close();
    this.#open();
  }

  close(): void {
    this.#socket?.close();
    this.#socket = undefined;
    this.#registry.setEventSource(false);
  }
}
