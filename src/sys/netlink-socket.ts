import { closeSync } from "node:fs";
import { AgentError, Code } from "../errors.js";
import { type FdPoll, native } from "./native.js";

/** Netlink protocol numbers (linux/netlink.h). */
export const NETLINK_ROUTE = 0;
export const NETLINK_KOBJECT_UEVENT = 15;

export interface NetlinkSocketOptions {
  /** Multicast groups to join (a bit mask, e.g. RTMGRP_LINK, or 1 for the kernel's uevents). */
  groups?: number;
  /** The socket's receive queue in bytes (0, the default, keeps the kernel's). */
  receiveBytes?: number;
  /** The largest datagram read whole (default 64 KiB, past what rtnetlink dumps and uevents use). */
  datagramBytes?: number;
}

/**
 * One datagram as received: a view into the socket's one receive buffer, valid only until the callback
 * it was given to returns.
 */
export type DatagramHandler = (datagram: Buffer, port: number) => void;

/**
 * A netlink socket on Node's own event loop: datagrams out to the kernel, datagrams in, never blocking and
 * never on the thread pool. It is the one primitive for every netlink use (rtnetlink requests, uevents):
 * what the datagrams mean is the caller's.
 */
export class NetlinkSocket {
  readonly protocol: number;
  #fd: number;
  #buffer: Buffer;
  #poll: FdPoll | undefined;

  private constructor(protocol: number, fd: number, datagramBytes: number) {
    this.protocol = protocol;
    this.#fd = fd;
    this.#buffer = Buffer.allocUnsafe(datagramBytes);
  }

  static open(protocol: number, options: NetlinkSocketOptions = {}): NetlinkSocket {
    const { groups = 0, receiveBytes = 0, datagramBytes = 64 << 10 } = options;
    try {
      return new NetlinkSocket(protocol, native().netlinkOpen(protocol, groups, receiveBytes), datagramBytes);
    } catch (error) {
      throw AgentError.wrap(error, `cannot open a netlink socket (protocol ${protocol})`);
    }
  }

  get closed(): boolean {
    return this.#fd < 0;
  }

  /** Sends one datagram to the kernel. A full send buffer is UNAVAILABLE (rtnetlink never fills it). */
  send(datagram: Uint8Array): void {
    const fd = this.#openFd();
    const buffer = Buffer.isBuffer(datagram)
      ? datagram
      : Buffer.from(datagram.buffer, datagram.byteOffset, datagram.byteLength);
    let sent: boolean;
    try {
      sent = native().netlinkSend(fd, buffer);
    } catch (error) {
      throw AgentError.wrap(error, "cannot send to the kernel over netlink");
    }
    if (!sent) throw new AgentError(Code.UNAVAILABLE, "the netlink socket's send buffer is full");
  }

  /**
   * Hands every datagram waiting now to `onDatagram`, in order; returns how many. A datagram larger than
   * the receive buffer is DATA_LOSS; a failed receive is a NetlinkReceiveError, whose errno "ENOBUFS" says the
   * receive queue overflowed: datagrams were lost, and the caller must resynchronise.
   */
  drain(onDatagram: DatagramHandler): number {
    const fd = this.#openFd();
    let count = 0;
    for (;;) {
      let received: [number, number] | null;
      try {
        received = native().netlinkReceive(fd, this.#buffer);
      } catch (error) {
        throw new NetlinkReceiveError(error);
      }
      if (received === null) return count;
      const [length, port] = received;
      if (length > this.#buffer.length) {
        throw new AgentError(
          Code.DATA_LOSS,
          `a netlink datagram of ${length} bytes was cut at ${this.#buffer.length} bytes`,
        );
      }
      count++;
      onDatagram(this.#buffer.subarray(0, length), port);
    }
  }

  /**
   * Calls `onReadable` whenever datagrams wait (it must drain them, or it is called again); a poll error
   * is passed to it. The socket does not keep the process alive. One listener at a time.
   */
  listen(onReadable: (error?: Error) => void): void {
    const fd = this.#openFd();
    this.#poll?.stop();
    this.#poll = native().pollFd(fd, native().constants.POLL_READABLE, onReadable);
  }

  /** Stops listening and closes the socket; later calls do nothing. */
  close(): void {
    if (this.#fd < 0) return;
    this.#poll?.stop();
    this.#poll = undefined;
    try {
      closeSync(this.#fd);
    } catch {
      // EBADF or EIO: the socket is gone either way
    }
    this.#fd = -1;
  }

  #openFd(): number {
    if (this.#fd < 0) throw new AgentError(Code.FAILED_PRECONDITION, "the netlink socket is closed");
    return this.#fd;
  }
}

/** A receive that failed; `errno` "ENOBUFS" means the receive queue overflowed and datagrams were lost. */
export class NetlinkReceiveError extends AgentError {
  override name = "NetlinkReceiveError";
  readonly errno: string;

  constructor(cause: unknown) {
    const reason = AgentError.wrap(cause, "cannot receive from netlink");
    super(reason.code, reason.message, { cause });
    this.errno = String((cause as { code?: unknown }).code ?? "");
  }
}
