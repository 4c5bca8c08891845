import { execFileSync } from "node:child_process";
import type { AgentProcess } from "./agent-process.js";

/** A link as `ip -j [-d] link show` prints it (the fields the tests read). */
export interface IpLink {
  ifindex: number;
  ifname: string;
  flags: string[];
  mtu: number;
  address?: string;
  operstate?: string;
}

/** A link's addresses as `ip -j addr show` prints them. */
export interface LinkAddresses {
  ifname: string;
  addr_info: {
    family: string;
    local: string;
    prefixlen: number;
    label?: string;
    tentative?: boolean;
    nodad?: boolean;
  }[];
}

/** Runs `argv` in the agent's network namespace (never the machine's own) and returns its stdout. */
export function inAgentNetns(agent: AgentProcess, argv: readonly string[], input?: string): string {
  return execFileSync("nsenter", [`--net=/proc/${agent.pid}/ns/net`, ...argv], {
    encoding: "utf8",
    ...(input === undefined ? {} : { input }),
    stdio: ["pipe", "pipe", "pipe"],
  });
}

export const ipIn = (agent: AgentProcess, args: readonly string[]) => inAgentNetns(agent, ["ip", ...args]);

export const ipJson = <T>(agent: AgentProcess, args: readonly string[]): T =>
  JSON.parse(inAgentNetns(agent, ["ip", "-j", ...args]) || "[]") as T;

/** A veth pair in the agent's namespace (this kernel has no dummy links), `name` with the MAC given. */
export function makeVeth(agent: AgentProcess, name: string, peer: string, mac: string): void {
  ipIn(agent, ["link", "add", name, "address", mac, "type", "veth", "peer", "name", peer]);
  ipIn(agent, ["link", "set", peer, "up"]);
}

export function sysctlIn(agent: AgentProcess, key: string, value: string): void {
  inAgentNetns(agent, ["sysctl", "-q", "-w", `${key}=${value}`]);
}
