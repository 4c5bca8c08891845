import { AgentError } from "../errors.js";
import type { Logger } from "../log.js";
import { throwIfAborted } from "../sys/abort.js";
import { CleanupStack } from "../sys/cleanup-stack.js";
import { AF_INET6, formatIp, networkOf } from "./ip-address.js";
import { gatewaysLast, ignoreGone, isManagedRoute, restoreRoutes, unwindAfter } from "./link-state.js";
import type { Route } from "./netlink/route-message.js";
import type { Rtnl } from "./netlink/rtnl.js";

/** IPv6 routes without a metric get 1024 from the kernel; IPv4 routes 0. */
const defaultPriority = (r: Route) => (r.family === AF_INET6 ? 1024 : 0);

/**
 * What the kernel tells routes apart by (a REPLACE of the same key overwrites the route in place). Prefixes
 * are keyed by their network: the kernel clears the host bits of an IPv6 prefix it is given.
 */
export function routeKey(r: Route): string {
  const network = (bytes: Uint8Array | undefined, length: number) => {
    const zero = new Uint8Array(r.family === AF_INET6 ? 16 : 4);
    return `${formatIp(networkOf({ family: r.family, bytes: bytes ?? zero, length }))}/${length}`;
  };
  return [
    r.family,
    r.table,
    network(r.dst, r.dstLength),
    network(r.src, r.srcLength),
    r.tos,
    r.priority ?? defaultPriority(r),
  ].join("|");
}

export interface PlannedRoute {
  route: Route;
  /** How the request wrote it, for errors. */
  shown: string;
}

/**
 * Makes the managed routes (main table, not the kernel's) of every link the request names exactly the
 * requested ones: each is added or replaced, routes without a gateway first, then the ones left over are
 * deleted. Any failure (or an abort) puts the route table back as it was.
 */
export async function updateRoutes(
  rtnl: Rtnl,
  planned: readonly PlannedRoute[],
  log: Logger,
  signal?: AbortSignal,
): Promise<void> {
  const before = await rtnl.mainRoutes();
  const named = new Set(planned.map((p) => p.route.oif));
  const wanted = new Set(planned.map((p) => routeKey(p.route)));
  const stale = before.filter((r) => isManagedRoute(r) && named.has(r.oif) && !wanted.has(routeKey(r)));
  const touched = new Set<number>();
  for (const r of [...before, ...planned.map((p) => p.route)]) if (r.oif !== undefined) touched.add(r.oif);
  // A requested route may have the key of one the kernel made for an address (a subnet route the pod's
  // netns holds as non-kernel): the replace overwrites it, so the undo puts it back first, before routes
  // through it.
  const overwritten = before.filter((r) => !isManagedRoute(r) && wanted.has(routeKey(r)));
  const undo = new CleanupStack();
  undo.push("restore the route table", async () => {
    for (const route of overwritten) await rtnl.replaceRoute(route);
    await restoreRoutes(rtnl, touched, before);
  });
  try {
    for (const { route, shown } of gatewaysLast(planned, (p) => p.route.gateway)) {
      throwIfAborted(signal);
      await rtnl.replaceRoute(route).catch((error: unknown) => {
        throw AgentError.wrap(error, `cannot add route ${shown}`);
      });
    }
    for (const route of stale) {
      throwIfAborted(signal);
      await ignoreGone(rtnl.deleteRoute(route));
    }
  } catch (error) {
    throw await unwindAfter(undo, error, log);
  }
}
