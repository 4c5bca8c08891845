import { AgentError, Code } from "../../errors.js";
import { NETLINK_ROUTE, NetlinkSocket } from "../../sys/netlink-socket.js";
import { SerialQueue } from "../../sys/serial-queue.js";
import {
  type Attribute,
  encodeMessage,
  NetlinkDecodeError,
  type NetlinkError,
  type NetlinkMessage,
  NLM_F_ACK,
  NLM_F_DUMP,
  NLM_F_DUMP_INTR,
  NLM_F_REQUEST,
  NLMSG_DONE,
  NLMSG_ERROR,
  NLMSG_NOOP,
  NLMSG_OVERRUN,
  splitMessages,
  statusOf,
} from "./netlink-message.js";

export interface RouteNetlinkLimits {
  /** How long one request may wait for the kernel's answer (default 10 s). */
  timeoutMs?: number;
  /** Requests in flight or waiting (default 4096). */
  maxQueued?: number;
  /** Objects one dump may return (default 65536). */
  maxDumpEntries?: number;
}

export interface MessageBody {
  fixed: Uint8Array;
  attributes?: readonly Attribute[];
}

/** A dump ends with NLMSG_DONE; a get (one object) and a change end with the kernel's ack. */
type Kind = "dump" | "get" | "change";

interface Pending {
  seq: number;
  kind: Kind;
  entries: unknown[];
  interrupted: boolean;
  decode: (message: NetlinkMessage) => unknown;
  settle: (error: Error | undefined, entries?: unknown[]) => void;
}

/** A dump the kernel interrupted (NLM_F_DUMP_INTR: the table changed under it) is retried this often. */
const DUMP_RETRIES = 3;

/**
 * rtnetlink requests over one NETLINK_ROUTE socket: one in flight at a time (parallel dumps on a socket are
 * EBUSY), the rest queued up to a limit, each answered by sequence number within a deadline. The kernel
 * handles a request inside sendmsg, so its answer is usually read at once, without a trip round the loop.
 */
export class RouteNetlink {
  readonly #socket: NetlinkSocket;
  readonly #timeoutMs: number;
  readonly #requests: SerialQueue;
  readonly #maxDumpEntries: number;
  #seq = Math.floor(Math.random() * 0x7fffffff);
  #pending: Pending | undefined;

  constructor(limits: RouteNetlinkLimits = {}) {
    this.#timeoutMs = limits.timeoutMs ?? 10_000;
    this.#requests = new SerialQueue("netlink requests", limits.maxQueued ?? 4096);
    this.#maxDumpEntries = limits.maxDumpEntries ?? 65_536;
    this.#socket = NetlinkSocket.open(NETLINK_ROUTE);
    this.#socket.listen(() => this.#receive());
  }

  /** Every object of a dump request (`type` RTM_GET*), decoded; `decode` may skip one by returning undefined. */
  async dump<T>(
    type: number,
    body: MessageBody,
    decode: (message: NetlinkMessage) => T | undefined,
  ): Promise<T[]> {
    for (let attempt = 0; ; attempt++) {
      const { entries, interrupted } = await this.#enqueue(type, NLM_F_DUMP, body, "dump", decode);
      if (!interrupted || attempt >= DUMP_RETRIES) return entries as T[];
    }
  }

  /** One object (a RTM_GET* without the dump flag), decoded; undefined when `decode` skips what came. */
  async get<T>(
    type: number,
    body: MessageBody,
    decode: (message: NetlinkMessage) => T | undefined,
  ): Promise<T | undefined> {
    const { entries } = await this.#enqueue(type, NLM_F_ACK, body, "get", decode);
    return entries[0] as T | undefined;
  }

  /** A change request (RTM_NEW*, RTM_DEL*, RTM_SETLINK) with `flags`, resolved when the kernel acks it. */
  async change(type: number, flags: number, body: MessageBody): Promise<void> {
    await this.#enqueue(type, flags | NLM_F_ACK, body, "change", () => undefined);
  }

  close(): void {
    this.#socket.close();
    this.#settle(new AgentError(Code.UNAVAILABLE, "the netlink socket was closed"));
  }

  #enqueue(
    type: number,
    flags: number,
    body: MessageBody,
    kind: Kind,
    decode: (message: NetlinkMessage) => unknown,
  ): Promise<{ entries: unknown[]; interrupted: boolean }> {
    return this.#requests.run(() => this.#run(type, flags, body, kind, decode));
  }

  #run(
    type: number,
    flags: number,
    body: MessageBody,
    kind: Kind,
    decode: (message: NetlinkMessage) => unknown,
  ): Promise<{ entries: unknown[]; interrupted: boolean }> {
    return new Promise((resolve, reject) => {
      this.#seq = (this.#seq + 1) >>> 0;
      const timer = setTimeout(() => {
        this.#settle(
          new AgentError(Code.DEADLINE_EXCEEDED, `the kernel did not answer netlink request ${type}`),
        );
      }, this.#timeoutMs);
      const pending: Pending = {
        seq: this.#seq,
        kind,
        entries: [],
        interrupted: false,
        decode,
        settle: (error, entries) => {
          clearTimeout(timer);
          if (error) reject(error);
          else resolve({ entries: entries ?? [], interrupted: pending.interrupted });
        },
      };
      this.#pending = pending;
      try {
        this.#socket.send(
          encodeMessage(
            { type, flags: flags | NLM_F_REQUEST, seq: pending.seq },
            body.fixed,
            body.attributes,
          ),
        );
      } catch (error) {
        this.#settle(AgentError.from(error));
        return;
      }
      this.#receive();
    });
  }

  #settle(error: Error | undefined, entries?: unknown[]): void {
    const pending = this.#pending;
    this.#pending = undefined;
    pending?.settle(error, entries);
  }

  #receive(): void {
    try {
      this.#socket.drain((datagram) => {
        for (const message of splitMessages(datagram)) this.#handle(message);
      });
    } catch (error) {
      this.#settle(AgentError.wrap(error, "cannot read the kernel's netlink answer"));
    }
  }

  #handle(message: NetlinkMessage): void {
    const pending = this.#pending;
    if (!pending || message.seq !== pending.seq) return;
    if (message.flags & NLM_F_DUMP_INTR) pending.interrupted = true;
    if (message.type === NLMSG_ERROR || message.type === NLMSG_DONE) {
      let status: NetlinkError | undefined;
      try {
        status = statusOf(message);
      } catch (error) {
        this.#settle(AgentError.from(error));
        return;
      }
      if (message.type === NLMSG_ERROR && !status && pending.kind === "dump") return;
      this.#settle(status, pending.entries);
      return;
    }
    if (message.type === NLMSG_NOOP || message.type === NLMSG_OVERRUN || pending.kind === "change") return;
    if (pending.entries.length >= this.#maxDumpEntries) {
      this.#settle(
        new AgentError(Code.RESOURCE_EXHAUSTED, `a netlink dump passed ${this.#maxDumpEntries} entries`),
      );
      return;
    }
    let entry: unknown;
    try {
      entry = pending.decode(message);
    } catch (error) {
      this.#settle(error instanceof NetlinkDecodeError ? error : AgentError.from(error));
      return;
    }
    if (entry !== undefined) pending.entries.push(entry);
  }
}
