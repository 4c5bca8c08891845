import { AgentError } from "../errors.js";
import type { Logger } from "../log.js";
import type { CleanupStack } from "../sys/cleanup-stack.js";
import { AF_INET6, formatIp, sameBytes } from "./ip-address.js";
import { IFA_F_NODAD, type LinkAddress } from "./netlink/address-message.js";
import { IFF_UP, type Link } from "./netlink/link-message.js";
import { type Route, RT_TABLE_MAIN, RTPROT_KERNEL, RTPROT_RA } from "./netlink/route-message.js";
import type { Rtnl } from "./netlink/rtnl.js";

/** The kernel makes these itself (fe80::/10 on every IPv6 link): berth never removes or restores them. */
export const isKernelLinkLocal = (a: LinkAddress) =>
  a.family === AF_INET6 && (a.address[0] ?? 0) === 0xfe && ((a.address[1] ?? 0) & 0xc0) === 0x80;

export const linkAddressKey = (a: LinkAddress) => `${formatIp(a.address)}/${a.prefixLength}`;

/**
 * An address to add, its scope kept (universe by default): IPv6 without duplicate address detection, so it
 * is usable at once; no other flag (the kernel's own, such as "secondary", are not ours to set).
 */
export function addressToAdd(
  a: Omit<LinkAddress, "flags" | "scope"> & { flags?: number; scope?: number },
): LinkAddress {
  const flags = a.family === AF_INET6 ? IFA_F_NODAD : 0;
  return { ...a, flags, scope: a.scope ?? 0 };
}

/** Routes berth manages: main table, not made by the kernel (for an address, or from a router advertisement). */
export const isManagedRoute = (r: Route) =>
  r.table === RT_TABLE_MAIN && r.protocol !== RTPROT_KERNEL && r.protocol !== RTPROT_RA;

/** A route's identity and content, for "is this route still there". */
export function routeIdentity(r: Route): string {
  const ip = (b: Uint8Array | undefined) => (b ? formatIp(b) : "");
  return [
    r.family,
    r.table,
    `${ip(r.dst)}/${r.dstLength}`,
    `${ip(r.src)}/${r.srcLength}`,
    r.tos,
    r.priority ?? "",
    ip(r.gateway),
    r.oif ?? "",
    ip(r.prefsrc),
    r.scope,
    r.mtu ?? "",
  ].join("|");
}

/** Routes without a gateway first (they make gateways reachable), the order otherwise kept. */
export const gatewaysLast = <T>(
  routes: readonly T[],
  gatewayOf: (route: T) => Uint8Array | undefined,
): T[] => [...routes.filter((r) => !gatewayOf(r)), ...routes.filter((r) => gatewayOf(r))];

/**
 * Makes link `index` hold exactly the addresses of `addresses` again (kernel link-locals aside), and puts
 * back every managed route of `routes` that is gone: what a rollback of UpdateInterface needs.
 */
export async function restoreAddresses(
  rtnl: Rtnl,
  index: number,
  addresses: readonly LinkAddress[],
): Promise<void> {
  const wanted = new Map(addresses.filter((a) => !isKernelLinkLocal(a)).map((a) => [linkAddressKey(a), a]));
  const current = (await rtnl.addresses(index)).filter((a) => !isKernelLinkLocal(a));
  for (const a of current) {
    if (!wanted.delete(linkAddressKey(a))) await rtnl.deleteAddress(a);
  }
  for (const a of wanted.values()) await rtnl.addAddress(addressToAdd(a));
}

/**
 * Makes the managed routes of the links in `indexes` what `before` had: routes added since are deleted,
 * routes gone are put back (gateways last).
 */
export async function restoreRoutes(
  rtnl: Rtnl,
  indexes: ReadonlySet<number>,
  before: readonly Route[],
): Promise<void> {
  const ours = (r: Route) => isManagedRoute(r) && r.oif !== undefined && indexes.has(r.oif);
  const wanted = new Map(before.filter(ours).map((r) => [routeIdentity(r), r]));
  const current = (await rtnl.mainRoutes()).filter(ours);
  for (const r of current) {
    if (!wanted.delete(routeIdentity(r))) await ignoreGone(rtnl.deleteRoute(r));
  }
  for (const r of gatewaysLast([...wanted.values()], (w) => w.gateway)) await rtnl.replaceRoute(r);
}

/** A delete of what is already gone (ESRCH, EADDRNOTAVAIL) is not a failure. */
export async function ignoreGone(change: Promise<void>): Promise<void> {
  try {
    await change;
  } catch (error) {
    const errno = (error as { errno?: unknown }).errno;
    if (errno !== "ESRCH" && errno !== "EADDRNOTAVAIL" && errno !== "ENOENT") throw error;
  }
}

/**
 * Renames a link, which the kernel allows only while it is down (taken down first when `link.flags` says it
 * may be up); `up` says whether it comes back up.
 */
export async function renameLink(
  rtnl: Rtnl,
  link: { index: number; flags: number },
  name: string,
  up: boolean,
): Promise<void> {
  if (link.flags & IFF_UP) await rtnl.setLink({ index: link.index, flags: 0, flagMask: IFF_UP });
  await rtnl.setLink({ index: link.index, name, flags: up ? IFF_UP : 0, flagMask: IFF_UP });
}

/** The link whose MAC is `mac`. */
export const findByMac = (links: readonly Link[], mac: Uint8Array) =>
  links.find((l) => sameBytes(l.address, mac));

/**
 * Unwinds after `error`; returns the error to throw: `error` itself, or, when an undo failed too, `error`
 * saying so (logged as well: the guest's network is then not as it was).
 */
export async function unwindAfter(undo: CleanupStack, error: unknown, log: Logger): Promise<AgentError> {
  const reason = AgentError.from(error);
  try {
    await undo.unwind();
    return reason;
  } catch (cleanup) {
    log.error({ err: cleanup, cause: reason.message }, "a network change failed and was not fully undone");
    return new AgentError(
      reason.code,
      `${reason.message}; undoing it failed too: ${AgentError.from(cleanup).message}`,
      {
        cause: error,
      },
    );
  }
}
