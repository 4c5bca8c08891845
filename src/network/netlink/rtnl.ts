import {
  addressBody,
  decodeAddress,
  ifaddrmsg,
  type LinkAddress,
  RTM_DELADDR,
  RTM_GETADDR,
  RTM_NEWADDR,
} from "./address-message.js";
import {
  byName,
  decodeLink,
  ifinfomsg,
  type Link,
  type LinkChange,
  linkChangeBody,
  RTM_GETLINK,
  RTM_NEWLINK,
  RTM_SETLINK,
  withoutStats,
} from "./link-message.js";
import {
  decodeNeighbour,
  type Neighbour,
  ndmsg,
  neighbourBody,
  RTM_DELNEIGH,
  RTM_GETNEIGH,
  RTM_NEWNEIGH,
} from "./neighbour-message.js";
import { NLM_F_CREATE, NLM_F_REPLACE } from "./netlink-message.js";
import {
  decodeRoute,
  mainTableDump,
  type Route,
  RT_TABLE_MAIN,
  RTM_DELROUTE,
  RTM_GETROUTE,
  RTM_NEWROUTE,
  routeBody,
} from "./route-message.js";
import { RouteNetlink, type RouteNetlinkLimits } from "./route-netlink.js";

/**
 * The kernel's link, address, route and neighbour tables of the agent's network namespace, read and
 * changed over rtnetlink. Each method is one request (or one dump); what to change is the caller's.
 */
export class Rtnl {
  readonly #netlink: RouteNetlink;

  constructor(limits?: RouteNetlinkLimits) {
    this.#netlink = new RouteNetlink(limits);
  }

  close(): void {
    this.#netlink.close();
  }

  links(): Promise<Link[]> {
    return this.#netlink.dump(RTM_GETLINK, { fixed: ifinfomsg(0), attributes: withoutStats }, (m) =>
      m.type === RTM_NEWLINK ? decodeLink(m.payload) : undefined,
    );
  }

  /** Link `index` (or the link named `name`), or undefined when there is none (ENODEV). */
  async link(index: number, name?: string): Promise<Link | undefined> {
    try {
      return await this.#netlink.get(
        RTM_GETLINK,
        { fixed: ifinfomsg(index), attributes: name === undefined ? withoutStats : byName(name) },
        (m) => (m.type === RTM_NEWLINK ? decodeLink(m.payload) : undefined),
      );
    } catch (error) {
      if ((error as { errno?: unknown }).errno === "ENODEV") return undefined;
      throw error;
    }
  }

  /** The addresses of every link, or of link `index` (the kernel filters: strict checking is on). */
  addresses(index = 0): Promise<LinkAddress[]> {
    return this.#netlink.dump(RTM_GETADDR, { fixed: ifaddrmsg(0, 0, 0, 0, index) }, (m) => {
      if (m.type !== RTM_NEWADDR) return undefined;
      const address = decodeAddress(m.payload);
      return index === 0 || address.index === index ? address : undefined;
    });
  }

  /** The main table's routes, IPv4 then IPv6, in one dump. */
  mainRoutes(): Promise<Route[]> {
    return this.#netlink.dump(RTM_GETROUTE, mainTableDump(), (m) => {
      if (m.type !== RTM_NEWROUTE) return undefined;
      const route = decodeRoute(m.payload);
      return route.table === RT_TABLE_MAIN ? route : undefined;
    });
  }

  /** The neighbours of both families (ARP and NDP) of every link. */
  neighbours(): Promise<Neighbour[]> {
    return this.#netlink.dump(RTM_GETNEIGH, { fixed: ndmsg(0, 0) }, (m) => {
      // A dump of both families also brings the bridge's forwarding entries (AF_BRIDGE): not neighbours.
      if (m.type !== RTM_NEWNEIGH || (m.payload[0] !== 2 && m.payload[0] !== 10)) return undefined;
      return decodeNeighbour(m.payload);
    });
  }

  setLink(change: LinkChange): Promise<void> {
    return this.#netlink.change(RTM_SETLINK, 0, linkChangeBody(change));
  }

  addAddress(address: LinkAddress): Promise<void> {
    return this.#netlink.change(
      RTM_NEWADDR,
      NLM_F_CREATE | NLM_F_REPLACE,
      addressBody(address, { label: true }),
    );
  }

  deleteAddress(address: LinkAddress): Promise<void> {
    return this.#netlink.change(RTM_DELADDR, 0, addressBody(address));
  }

  replaceRoute(route: Route): Promise<void> {
    return this.#netlink.change(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, routeBody(route));
  }

  deleteRoute(route: Route): Promise<void> {
    return this.#netlink.change(RTM_DELROUTE, 0, routeBody(route));
  }

  replaceNeighbour(neighbour: Neighbour): Promise<void> {
    return this.#netlink.change(RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE, neighbourBody(neighbour));
  }

  deleteNeighbour(neighbour: Neighbour): Promise<void> {
    return this.#netlink.change(RTM_DELNEIGH, 0, neighbourBody(neighbour));
  }
}
