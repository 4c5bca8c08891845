import { readFileSync } from "node:fs";
import type { DeviceRegistry } from "../device/device-registry.js";
import { type DeviceMatcher, netInterface } from "../device/matchers.js";
import { parsePciPath, resolvePciPath } from "../device/pci-path.js";
import { AgentError, Code } from "../errors.js";
import type { Logger } from "../log.js";
import { SerialQueue } from "../sys/serial-queue.js";
import { planInterface } from "./interface-plan.js";
import { linkNotFound, updateInterface } from "./interface-update.js";
import { AF_INET6 } from "./ip-address.js";
import { findByMac } from "./link-state.js";
import { waitForLink } from "./link-waiter.js";
import { addNeighbours, planNeighbours } from "./neighbours.js";
import type { Link } from "./netlink/link-message.js";
import type { Route } from "./netlink/route-message.js";
import { Rtnl } from "./netlink/rtnl.js";
import { interfaceText, routeTexts } from "./network-listing.js";
import type { InterfaceText, NeighbourText, RouteText } from "./network-types.js";
import { describeRoute, planRoutes } from "./route-plan.js";
import { updateRoutes } from "./route-update.js";

/**
 * What announces the NIC at a PCI path, or undefined when this guest has no such path (a guest without
 * PCI, such as Firecracker's, or a bridge that is not there): then only its link is awaited.
 */
async function nicMatcher(devices: DeviceRegistry, devicePath: string): Promise<DeviceMatcher | undefined> {
  try {
    const pci = await resolvePciPath(devices.sysfs.root, parsePciPath(devicePath));
    return netInterface(pci.devpath, devicePath);
  } catch {
    return undefined;
  }
}

export interface NetworkServiceOptions {
  log: Logger;
  /** How long UpdateInterface waits for a NIC hot-plugged at a PCI path (agent.hotplug_timeout). */
  hotplugTimeoutMs: number;
  /** Where a hot-plugged NIC is awaited (the agent's device registry); none: only its link is. */
  devices?: DeviceRegistry | undefined;
  /** Where the net sysctls are (default /proc/sys/net): IPv6 counts as off when both all/ and default/ say so. */
  sysctlNetDir?: string;
  /** Changes being made or waiting (default 256). */
  maxQueued?: number;
}

/**
 * The guest's network, as the host configures it before CreateSandbox and while the pod runs: interfaces,
 * routes and neighbours of the agent's network namespace, over one rtnetlink socket opened on first use.
 * Changes run one at a time, each all-or-nothing; reads and the wait for a hot-plugged NIC queue behind
 * nothing, and no sandbox lock is involved.
 */
export class NetworkService {
  readonly #log: Logger;
  readonly #hotplugTimeoutMs: number;
  readonly #devices: DeviceRegistry | undefined;
  readonly #sysctlNetDir: string;
  readonly #changes: SerialQueue;
  #rtnl: Rtnl | undefined;

  constructor(options: NetworkServiceOptions) {
    this.#log = options.log;
    this.#hotplugTimeoutMs = options.hotplugTimeoutMs;
    this.#devices = options.devices;
    this.#sysctlNetDir = options.sysctlNetDir ?? "/proc/sys/net";
    this.#changes = new SerialQueue("network changes", options.maxQueued ?? 256);
  }

  async updateInterface(request: InterfaceText, signal?: AbortSignal): Promise<InterfaceText> {
    const plan = planInterface(request);
    const rtnl = this.#netlink();
    if (plan.devicePath !== "" && !findByMac(await rtnl.links(), plan.mac)) {
      await this.#waitForNic(plan.mac, plan.devicePath, rtnl, signal);
    }
    const ipv6 = plan.addresses.some((a) => a.family === AF_INET6) && this.#ipv6Enabled();
    const index = await this.#changes.run(
      () => updateInterface(rtnl, plan, { ipv6, log: this.#log, signal }),
      signal,
    );
    const link = await rtnl.link(index);
    if (!link)
      throw new AgentError(Code.NOT_FOUND, `${linkNotFound(plan.mac)}: it went away just after its update`);
    return {
      ...interfaceText(link, await rtnl.addresses(index)),
      device: request.device,
      devicePath: request.devicePath,
      type: request.type,
    };
  }

  /**
   * A NIC hot-plugged for UpdateInterface: its interface at the PCI path (through the device registry,
   * when the guest has that path's bridges), then its link by MAC, all within the hotplug timeout.
   */
  async #waitForNic(mac: Uint8Array, devicePath: string, rtnl: Rtnl, signal: AbortSignal | undefined) {
    const deadline = performance.now() + this.#hotplugTimeoutMs;
    const notFound = (cause?: unknown) =>
      new AgentError(
        Code.NOT_FOUND,
        `${linkNotFound(mac)}: no link with it appeared within ${this.#hotplugTimeoutMs} ms of the NIC at PCI path ${devicePath}`,
        cause === undefined ? undefined : { cause },
      );
    const nic = this.#devices ? await nicMatcher(this.#devices, devicePath) : undefined;
    if (nic && this.#devices) {
      await this.#devices
        .waitFor(nic, { timeoutMs: this.#hotplugTimeoutMs, signal })
        .catch((error: unknown) => {
          throw AgentError.from(error).code === Code.DEADLINE_EXCEEDED ? notFound(error) : error;
        });
    }
    const link = await waitForLink(mac, {
      timeoutMs: Math.max(0, deadline - performance.now()),
      signal,
      listLinks: () => rtnl.links(),
    });
    if (!link) throw notFound();
  }

  async updateRoutes(routes: readonly RouteText[], signal?: AbortSignal): Promise<RouteText[]> {
    const rtnl = this.#netlink();
    const links = await this.#changes.run(async () => {
      const links = await linksNamed(rtnl, routes);
      const planned = planRoutes(routes, linkIndexByName(links)).map((route, i) => ({
        route,
        shown: describeRoute(routes[i] as RouteText),
      }));
      const ipv6 = planned.some((p) => p.route.family === AF_INET6) && this.#ipv6Enabled();
      const kept = planned.filter((p) => ipv6 || p.route.family !== AF_INET6);
      if (kept.length < planned.length) {
        this.#log.warn(
          { skipped: planned.length - kept.length },
          "IPv6 is disabled in the guest: IPv6 routes are skipped",
        );
      }
      await updateRoutes(rtnl, kept, this.#log, signal);
      return links;
    }, signal);
    const table = await rtnl.mainRoutes();
    return routeTexts(table, await withLinksOf(rtnl, table, links));
  }

  async addNeighbours(neighbours: readonly NeighbourText[], signal?: AbortSignal): Promise<void> {
    const rtnl = this.#netlink();
    await this.#changes.run(async () => {
      const planned = planNeighbours(neighbours, linkIndexByName(await linksNamed(rtnl, neighbours)));
      await addNeighbours(rtnl, planned, this.#log, signal);
    }, signal);
  }

  async listInterfaces(): Promise<InterfaceText[]> {
    const rtnl = this.#netlink();
    const links = await rtnl.links();
    const addresses = await rtnl.addresses();
    return links.map((link) => interfaceText(link, addresses));
  }

  async listRoutes(): Promise<RouteText[]> {
    const rtnl = this.#netlink();
    const links = await rtnl.links();
    return routeTexts(await rtnl.mainRoutes(), links);
  }

  close(): void {
    this.#rtnl?.close();
    this.#rtnl = undefined;
  }

  #netlink(): Rtnl {
    this.#rtnl ??= new Rtnl();
    return this.#rtnl;
  }

  /** As Kata decides: IPv6 is on unless both all/ and default/ disable it (or the kernel has none). */
  #ipv6Enabled(): boolean {
    return ["all", "default"].some((which) => {
      try {
        // A sysctl's few bytes, read on the loop: a thread-pool round trip would cost more than the read.
        return readFileSync(`${this.#sysctlNetDir}/ipv6/conf/${which}/disable_ipv6`, "utf8").trim() === "0";
      } catch {
        return false;
      }
    });
  }
}

/** The links the entries name, one get each (a dump would cost every link of the guest); missing ones left out. */
async function linksNamed(rtnl: Rtnl, entries: readonly { device: string }[]): Promise<Link[]> {
  const links: Link[] = [];
  for (const name of new Set(entries.map((e) => e.device))) {
    // A name Linux cannot have names no link (the kernel would refuse the get itself).
    const possible = name !== "" && Buffer.byteLength(name) <= 15 && !name.includes("\0");
    const link = possible ? await rtnl.link(0, name) : undefined;
    if (link) links.push(link);
  }
  return links;
}

/** `known`, with the links of the routes' devices it lacks. */
async function withLinksOf(rtnl: Rtnl, routes: readonly Route[], known: readonly Link[]): Promise<Link[]> {
  const links = [...known];
  for (const index of new Set(routes.map((r) => r.oif))) {
    if (index === undefined || links.some((l) => l.index === index)) continue;
    const link = await rtnl.link(index);
    if (link) links.push(link);
  }
  return links;
}

const linkIndexByName = (links: readonly Link[]) => {
  const byName = new Map(links.map((l) => [l.name, l.index]));
  return (name: string) => byName.get(name);
};
