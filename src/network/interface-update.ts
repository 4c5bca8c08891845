import { AgentError, Code } from "../errors.js";
import type { Logger } from "../log.js";
import { throwIfAborted } from "../sys/abort.js";
import { CleanupStack } from "../sys/cleanup-stack.js";
import type { InterfacePlan } from "./interface-plan.js";
import { addressKey } from "./interface-plan.js";
import { AF_INET6, formatMac } from "./ip-address.js";
import {
  addressToAdd,
  findByMac,
  isKernelLinkLocal,
  linkAddressKey,
  renameLink,
  restoreAddresses,
  restoreRoutes,
  unwindAfter,
} from "./link-state.js";
import { IFF_NOARP, IFF_UP, type Link, type LinkChange } from "./netlink/link-message.js";
import type { Rtnl } from "./netlink/rtnl.js";

/** The text the Go host looks for before it retries an UpdateInterface (kata_agent.go): keep it. */
export const linkNotFound = (mac: Uint8Array) => `Link not found (Address: ${formatMac(mac)})`;

export interface UpdateInterfaceOptions {
  ipv6: boolean;
  log: Logger;
  signal?: AbortSignal | undefined;
}

/**
 * Gives the link that has `plan.mac` the plan's name, MTU, ARP flag and exactly its addresses, and brings
 * it up; returns the link's index. Any failure (or an abort) puts back the link's name, MTU, flags,
 * addresses and routes as they were, and the name swap with another link, if one held the name.
 */
export async function updateInterface(
  rtnl: Rtnl,
  plan: InterfacePlan,
  options: UpdateInterfaceOptions,
): Promise<number> {
  const links = await rtnl.links();
  const link = findByMac(links, plan.mac);
  if (!link) throw new AgentError(Code.NOT_FOUND, linkNotFound(plan.mac));
  const wanted = plan.addresses.filter((a) => options.ipv6 || a.family !== AF_INET6);
  if (wanted.length < plan.addresses.length) {
    options.log.warn(
      { link: link.name },
      "IPv6 is disabled in the guest: the interface's IPv6 addresses are skipped",
    );
  }
  const addressesBefore = await rtnl.addresses(link.index);
  const keep = new Set(wanted.map(addressKey));
  const stale = addressesBefore.filter((a) => !isKernelLinkLocal(a) && !keep.has(linkAddressKey(a)));
  const renaming = plan.name !== undefined && plan.name !== link.name;
  const holder = renaming ? links.find((l) => l.name === plan.name) : undefined;
  const undo = new CleanupStack();
  // Routes go with the addresses removed and with a link taken down: only then is a snapshot needed.
  if (stale.length > 0 || holder || (renaming && link.flags & IFF_UP)) {
    const routesBefore = await rtnl.mainRoutes();
    const indexes = new Set([link.index, ...(holder ? [holder.index] : [])]);
    // Unwound last, addresses before routes: a gateway is reachable only through an address's subnet.
    undo.push(`restore the routes of ${link.name}`, () => restoreRoutes(rtnl, indexes, routesBefore));
  }
  undo.push(`restore the addresses of ${link.name}`, () =>
    restoreAddresses(rtnl, link.index, addressesBefore),
  );
  try {
    const flagMask = IFF_UP | IFF_NOARP;
    const settings = {
      index: link.index,
      ...(plan.mtu !== undefined ? { mtu: plan.mtu } : {}),
      flags: IFF_UP | (plan.noArp ? IFF_NOARP : 0),
      flagMask,
    };
    if (plan.name !== undefined && renaming) await rename(rtnl, link, holder, plan.name, settings, undo);
    else await rtnl.setLink(settings);
    undo.push(`restore the MTU and flags of ${link.name}`, () =>
      rtnl.setLink({ index: link.index, mtu: link.mtu, flags: link.flags & flagMask, flagMask }),
    );
    throwIfAborted(options.signal);
    // Taking a link down drops its IPv6 addresses: after a rename, read them again.
    const current = renaming && link.flags & IFF_UP ? await rtnl.addresses(link.index) : addressesBefore;
    const present = new Set(current.map(linkAddressKey));
    for (const address of current) {
      if (isKernelLinkLocal(address) || keep.has(linkAddressKey(address))) continue;
      throwIfAborted(options.signal);
      await rtnl.deleteAddress(address).catch((error: unknown) => {
        throw AgentError.wrap(
          error,
          `cannot remove address ${linkAddressKey(address)} from ${plan.name ?? link.name}`,
        );
      });
    }
    for (const address of wanted) {
      const key = addressKey(address);
      if (present.has(key)) continue;
      throwIfAborted(options.signal);
      await rtnl
        .addAddress(
          addressToAdd({
            family: address.family,
            prefixLength: address.prefixLength,
            index: link.index,
            address: address.bytes,
          }),
        )
        .catch((error: unknown) => {
          throw AgentError.wrap(error, `cannot add address ${key} to ${plan.name ?? link.name}`);
        });
    }
  } catch (error) {
    throw await unwindAfter(undo, error, options.log);
  }
  return link.index;
}

/**
 * Renames `link` to `name`, applying `settings` with the name. A link that holds the name already swaps names
 * with it (the guest kernel may have named the NICs in another order than the host): it goes to a temporary
 * name, then to `link`'s old one.
 */
async function rename(
  rtnl: Rtnl,
  link: Link,
  holder: Link | undefined,
  name: string,
  settings: LinkChange,
  undo: CleanupStack,
): Promise<void> {
  const linkUp = (link.flags & IFF_UP) !== 0;
  const temporary = holder ? `berth-${holder.index}`.slice(0, 15) : "";
  const holderUp = holder ? (holder.flags & IFF_UP) !== 0 : false;
  if (holder) {
    await renameLink(rtnl, holder, temporary, false);
    undo.push(`rename ${temporary} back to ${name}`, () =>
      renameLink(rtnl, { index: holder.index, flags: 0 }, name, holderUp),
    );
  }
  if (linkUp) {
    await rtnl.setLink({ index: link.index, flags: 0, flagMask: IFF_UP });
    undo.push(`bring ${link.name} back up`, () =>
      rtnl.setLink({ index: link.index, flags: IFF_UP, flagMask: IFF_UP }),
    );
  }
  await rtnl.setLink({ ...settings, name });
  undo.push(`rename ${name} back to ${link.name}`, () =>
    renameLink(rtnl, { index: link.index, flags: IFF_UP }, link.name, linkUp),
  );
  if (holder) {
    await renameLink(rtnl, { index: holder.index, flags: 0 }, link.name, holderUp);
    undo.push(`rename ${link.name} back to ${temporary}`, () =>
      renameLink(rtnl, { index: holder.index, flags: IFF_UP }, temporary, false),
    );
  }
}
