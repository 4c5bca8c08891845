import { AgentError, Code } from "../errors.js";
import { abortReason } from "../sys/abort.js";
import { NETLINK_ROUTE, NetlinkSocket } from "../sys/netlink-socket.js";
import { sameBytes } from "./ip-address.js";
import { findByMac } from "./link-state.js";
import { decodeLink, type Link, RTM_NEWLINK, RTMGRP_LINK } from "./netlink/link-message.js";
import { splitMessages } from "./netlink/netlink-message.js";

/** Waits, each on a socket of its own, at most this many at once. */
const MAX_WAITERS = 64;
let waiters = 0;

export interface LinkWaitOptions {
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  /** The links now (a dump), read after the wait has subscribed to link changes: none is missed between. */
  listLinks: () => Promise<Link[]>;
}

/**
 * The link whose MAC is `mac`, as soon as the kernel has it: at once when it is there, else when the
 * kernel announces it (RTM_NEWLINK on RTMGRP_LINK), for at most `timeoutMs`. Undefined at the timeout;
 * an abort rejects with its reason. A lost announcement (the socket's queue overflowed) is a new dump.
 */
export async function waitForLink(mac: Uint8Array, options: LinkWaitOptions): Promise<Link | undefined> {
  if (options.signal?.aborted) throw abortReason(options.signal);
  if (waiters >= MAX_WAITERS) {
    throw new AgentError(
      Code.RESOURCE_EXHAUSTED,
      `${waiters} calls are waiting for a hot-plugged link already`,
    );
  }
  const socket = NetlinkSocket.open(NETLINK_ROUTE, { groups: RTMGRP_LINK });
  waiters++;
  try {
    return await new Promise<Link | undefined>((resolve, reject) => {
      let done = false;
      const finish = (error: Error | undefined, link?: Link) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        options.signal?.removeEventListener("abort", onAbort);
        if (error) reject(error);
        else resolve(link);
      };
      const timer = setTimeout(() => finish(undefined), options.timeoutMs);
      const onAbort = () => finish(options.signal ? abortReason(options.signal) : undefined);
      options.signal?.addEventListener("abort", onAbort, { once: true });
      const check = () =>
        options.listLinks().then(
          (links) => {
            const link = findByMac(links, mac);
            if (link) finish(undefined, link);
          },
          (error: unknown) => finish(AgentError.from(error)),
        );
      socket.listen(() => {
        try {
          socket.drain((datagram) => {
            for (const message of splitMessages(datagram)) {
              if (message.type !== RTM_NEWLINK) continue;
              const link = decodeLink(message.payload);
              if (sameBytes(link.address, mac)) finish(undefined, link);
            }
          });
        } catch (error) {
          if ((error as { errno?: unknown }).errno === "ENOBUFS") void check();
          else finish(AgentError.from(error));
        }
      });
      void check();
    });
  } finally {
    socket.close();
    waiters--;
  }
}
