import { AgentError, Code } from "../errors.js";
import type { Logger } from "../log.js";
import { throwIfAborted } from "../sys/abort.js";
import { CleanupStack } from "../sys/cleanup-stack.js";
import type { InterfacePlan } from "./interface-plan.js";
import { addressKey } from "./interface-plan.js";
import { AF_INET6, formatMac, sameBytes } from "./ip-address.js";
import {
  addressToAdd,
  isKernelLinkLocal,
  linkAddressKey,
  renameLink,
  restoreAddresses,
  restoreRoutes,
} from "./link-state.js";
import { IFF_NOARP, IFF_UP, type Link } from "./netlink/link-message.js";
import type { Rtnl } from "./netlink/rtnl.js";

/** The text the Go host looks for before it retries an UpdateInterface (kata_agent.go): keep it. */
export const linkNotFound = (mac: Uint8Array) => `Link not found (Address: ${formatMac(mac)})`;

export const findByMac = (links: readonly Link[], mac: Uint8Array) =>
  links.find((l) => sameBytes(l.address, mac));

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
  const routesBefore = await rtnl.allRoutes();
  const undo = new CleanupStack();
  // Unwound last, addresses before routes: a gateway is reachable only through an address's subnet.
  undo.push(`restore the routes of ${link.name}`, () =>
    restoreRoutes(rtnl, new Set([link.index]), routesBefore),
  );
  undo.push(`restore the addresses of ${link.name}`, () =>
    restoreAddresses(rtnl, link.index, addressesBefore),
  );
  try {
    if (plan.name !== undefined && plan.name !== link.name) await rename(rtnl, links, link, plan.name, undo);
    throwIfAborted(options.signal);
    const flagMask = IFF_UP | IFF_NOARP;
    await rtnl.setLink({
      index: link.index,
      ...(plan.mtu !== undefined ? { mtu: plan.mtu } : {}),
      flags: IFF_UP | (plan.noArp ? IFF_NOARP : 0),
      flagMask,
    });
    undo.push(`restore the MTU and flags of ${link.name}`, () =>
      rtnl.setLink({ index: link.index, mtu: link.mtu, flags: link.flags & flagMask, flagMask }),
    );
    const keep = new Set(wanted.map(addressKey));
    const current = await rtnl.addresses(link.index);
    for (const address of current) {
      if (isKernelLinkLocal(address) || keep.delete(linkAddressKey(address))) continue;
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
      if (!keep.has(key)) continue;
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
 * Renames `link` to `name`. A link that holds the name already swaps names with it (the guest kernel may
 * have named the NICs in another order than the host): it goes to a temporary name, then to `link`'s old one.
 */
async function rename(
  rtnl: Rtnl,
  links: readonly Link[],
  link: Link,
  name: string,
  undo: CleanupStack,
): Promise<void> {
  const linkUp = (link.flags & IFF_UP) !== 0;
  const holder = links.find((l) => l.name === name);
  const temporary = holder ? `berth-${holder.index}`.slice(0, 15) : "";
  const holderUp = holder ? (holder.flags & IFF_UP) !== 0 : false;
  if (holder) {
    await renameLink(rtnl, holder.index, temporary, false);
    undo.push(`rename ${temporary} back to ${name}`, () => renameLink(rtnl, holder.index, name, holderUp));
  }
  await renameLink(rtnl, link.index, name, linkUp);
  undo.push(`rename ${name} back to ${link.name}`, () => renameLink(rtnl, link.index, link.name, linkUp));
  if (holder) {
    await renameLink(rtnl, holder.index, link.name, holderUp);
    undo.push(`rename ${link.name} back to ${temporary}`, () =>
      renameLink(rtnl, holder.index, temporary, false),
    );
  }
}

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
