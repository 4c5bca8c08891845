import { AgentError, Code } from "../errors.js";
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

/** Kata's words for a request without its one message (INVALID_ARGUMENT). */
const empty = (what: string) => new AgentError(Code.INVALID_ARGUMENT, `empty ${what} request`);

export function networkHandlers(network: NetworkService): ServiceImpl<typeof AgentService.method> {
  return {
    updateInterface: async (req, context) => {
      if (!req.interface) throw empty("update interface");
      return interfaceToProto(
        await network.updateInterface(interfaceFromProto(req.interface), context.signal),
      );
    },
    updateRoutes: async (req, context) => {
      if (!req.routes) throw empty("update routes");
      const routes = await network.updateRoutes(req.routes.Routes.map(routeFromProto), context.signal);
      return { Routes: routes.map(routeToProto) };
    },
    addARPNeighbors: async (req, context) => {
      if (!req.neighbors) throw empty("add arp neighbours");
      await network.addNeighbours(req.neighbors.ARPNeighbors.map(neighbourFromProto), context.signal);
      return {};
    },
    listInterfaces: async () => ({ Interfaces: (await network.listInterfaces()).map(interfaceToProto) }),
    listRoutes: async () => ({ Routes: (await network.listRoutes()).map(routeToProto) }),
  };
}
