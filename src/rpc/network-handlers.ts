import type { IpTables } from "../network/iptables.js";
import type { AgentService } from "../protocol/gen/agent_pb.js";
import type { ServiceImpl } from "./router.js";

/** What the network RPCs work on, all of it in the network namespace the agent runs in. */
export interface NetworkDeps {
  readonly iptables: IpTables;
}

export function networkHandlers(network: NetworkDeps): ServiceImpl<typeof AgentService.method> {
  return {
    getIPTables: async (req, ctx) => ({
      data: await network.iptables.save(req.isIpv6 ? "ipv6" : "ipv4", ctx.signal),
    }),
    setIPTables: async (req, ctx) => ({
      data: await network.iptables.restore(req.isIpv6 ? "ipv6" : "ipv4", req.data, ctx.signal),
    }),
  };
}
