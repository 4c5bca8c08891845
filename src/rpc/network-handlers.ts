import { AgentError, Code } from "../errors.js";
import type { IpTables } from "../network/iptables.js";
import type { NetworkService } from "../network/network-service.js";
import type { AgentService } from "../protocol/gen/agent_pb.js";
import {
  interfaceFromProto,
  interfaceToProto,
  neighbourFromProto,
  routeFromProto,
  routeToProto,
} from "./convert/network-proto.js";
import type { ServiceImpl } from "./router.js";

/** What the network RPCs work on, all of it in the network namespace the agent runs in. */
export interface NetworkDeps {
  readonly links: NetworkService;
  readonly iptables: IpTables;
}

/** Kata's words for a request without its one message (INVALID_ARGUMENT). */
const empty = (what: string) => new AgentError(Code.INVALID_ARGUMENT, `empty ${what} request`);

export function networkHandlers({ links, iptables }: NetworkDeps): ServiceImpl<typeof AgentService.method> {
  return {
    updateInterface: async (req, ctx) => {
      if (!req.interface) throw empty("update interface");
      return interfaceToProto(await links.updateInterface(interfaceFromProto(req.interface), ctx.signal));
    },
    updateRoutes: async (req, ctx) => {
      if (!req.routes) throw empty("update routes");
      const routes = await links.updateRoutes(req.routes.Routes.map(routeFromProto), ctx.signal);
      return { Routes: routes.map(routeToProto) };
    },
    addARPNeighbors: async (req, ctx) => {
      if (!req.neighbors) throw empty("add arp neighbours");
      await links.addNeighbours(req.neighbors.ARPNeighbors.map(neighbourFromProto), ctx.signal);
      return {};
    },
    listInterfaces: async () => ({ Interfaces: (await links.listInterfaces()).map(interfaceToProto) }),
    listRoutes: async () => ({ Routes: (await links.listRoutes()).map(routeToProto) }),
    getIPTables: async (req, ctx) => ({
      data: await iptables.save(req.isIpv6 ? "ipv6" : "ipv4", ctx.signal),
    }),
    setIPTables: async (req, ctx) => ({
      data: await iptables.restore(req.isIpv6 ? "ipv6" : "ipv4", req.data, ctx.signal),
    }),
  };
}
