import assert from "node:assert/strict";
import { readlinkSync } from "node:fs";
import { describe, it } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { GetIPTablesRequestSchema, GetIPTablesResponseSchema } from "../../src/protocol/gen/agent_pb.js";
import { Code } from "../../src/protocol/ttrpc/code.js";
import { type AgentProcess, startAgent } from "../support/agent-process.js";
import { AgentRpc } from "../support/agent-rpc.js";
import { failsWith } from "../support/container-fixture.js";
import { grpcCall } from "../support/grpc-call.js";
import { runCommand } from "../support/run-command.js";

type Family = "ipv4" | "ipv6";

/**
 * A fresh agent in a network namespace of its own (never this machine's: checked before anything runs),
 * connected; stopped once `body` is done. No CreateSandbox is sent: the host configures the network first.
 */
async function withAgent(body: (agent: AgentProcess, rpc: AgentRpc) => Promise<void>): Promise<void> {
  const agent = await startAgent({ netns: true });
  let rpc: AgentRpc | undefined;
  try {
    assert.notEqual(readlinkSync(`/proc/${agent.pid}/ns/net`), readlinkSync("/proc/self/ns/net"));
    rpc = await AgentRpc.connect(agent.socketPath);
    await body(agent, rpc);
  } finally {
    rpc?.close();
    await agent.stop();
  }
}

/** The rules of an iptables-save output, without its comments (which carry the time). */
const rulesOf = (saved: string) =>
  saved
    .split("\n")
    .filter((line) => line !== "" && !line.startsWith("#"))
    .join("\n");

/** What iptables-save (ip6tables-save) prints run by us in the agent's network namespace. */
async function savedInAgentNamespace(agent: AgentProcess, family: Family): Promise<string> {
  const tool = family === "ipv4" ? "iptables-save" : "ip6tables-save";
  const { code, stdout, stderr } = await runCommand("nsenter", [`--net=/proc/${agent.pid}/ns/net`, tool]);
  assert.equal(code, 0, stderr);
  return rulesOf(stdout);
}

async function getRules(rpc: AgentRpc, family: Family): Promise<string> {
  const { data } = await rpc.call("getIPTables", { isIpv6: family === "ipv6" });
  return rulesOf(new TextDecoder().decode(data));
}

const setRules = (rpc: AgentRpc, family: Family, document: string) =>
  rpc.call("setIPTables", { isIpv6: family === "ipv6", data: new TextEncoder().encode(document) });

const IPV4_RULES = `*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -d 10.0.0.10/32 -p tcp -m tcp --dport 80 -j DNAT --to-destination 10.0.0.20:8080
COMMIT
*filter
:INPUT DROP [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:BERTH - [0:0]
-A INPUT -s 10.0.0.1/32 -j BERTH
-A BERTH -p tcp -m tcp --dport 22 -j ACCEPT
COMMIT`;

const IPV6_RULES = `*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A INPUT -s fd00::1/128 -j DROP
-A OUTPUT -d fd00::2/128 -p udp -m udp --dport 53 -j REJECT --reject-with icmp6-port-unreachable
COMMIT`;

describe("GetIPTables and SetIPTables, in the agent's own network namespace", () => {
  it("GetIPTables answers nothing before any table exists, IPv4 and IPv6 alike", async () => {
    await withAgent(async (agent, rpc) => {
      assert.equal(await savedInAgentNamespace(agent, "ipv4"), "");
      for (const family of ["ipv4", "ipv6"] as const) {
        const { data } = await rpc.call("getIPTables", { isIpv6: family === "ipv6" });
        assert.equal(data.length, 0, family);
      }
    });
  });

  it("SetIPTables applies IPv4 rules (answering the tool's empty output), GetIPTables gives them back", async () => {
    await withAgent(async (agent, rpc) => {
      const { data } = await setRules(rpc, "ipv4", `${IPV4_RULES}\n`);
      assert.equal(data.length, 0);
      const rules = await getRules(rpc, "ipv4");
      assert.equal(rules, await savedInAgentNamespace(agent, "ipv4"));
      for (const table of IPV4_RULES.split(/(?<=COMMIT)\n/)) assert.ok(rules.includes(table), rules);
      assert.equal(await getRules(rpc, "ipv6"), "");
    });
  });

  it("SetIPTables applies IPv6 rules with ip6tables-restore (Kata #11803 ran ip6tables-save); gRPC reads them too", async () => {
    await withAgent(async (agent, rpc) => {
      await setRules(rpc, "ipv6", `${IPV6_RULES}\n`);
      assert.equal(await getRules(rpc, "ipv6"), IPV6_RULES);
      assert.equal(await savedInAgentNamespace(agent, "ipv6"), IPV6_RULES);
      assert.equal(await savedInAgentNamespace(agent, "ipv4"), "");
      const request = toBinary(GetIPTablesRequestSchema, create(GetIPTablesRequestSchema, { isIpv6: true }));
      const reply = await grpcCall(agent.socketPath, "/grpc.AgentService/GetIPTables", request);
      assert.equal(
        rulesOf(new TextDecoder().decode(fromBinary(GetIPTablesResponseSchema, reply).data)),
        IPV6_RULES,
      );
    });
  });

  it("a document the tool refuses is INVALID_ARGUMENT with its words, and the rules in force stay", async () => {
    await withAgent(async (agent, rpc) => {
      await setRules(rpc, "ipv4", `${IPV4_RULES}\n`);
      const before = await savedInAgentNamespace(agent, "ipv4");
      await assert.rejects(
        setRules(
          rpc,
          "ipv4",
          "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -s 10.0.0.2/32 -j DROP\n-A INPUT -j NOPE\nCOMMIT\n",
        ),
        failsWith(
          Code.INVALID_ARGUMENT,
          /^the IPv4 rules were refused: .*iptables-restore --wait 5: exited with 2: iptables-restore v[\d.]+ \(nf_tables\): Chain 'NOPE' does not exist\nError occurred at line: 5/,
        ),
      );
      assert.equal(await savedInAgentNamespace(agent, "ipv4"), before);
      await assert.rejects(
        setRules(rpc, "ipv6", "*filter\n-A INPUT -s 10.0.0.1 -j DROP\nCOMMIT\n"),
        failsWith(
          Code.INVALID_ARGUMENT,
          /^the IPv6 rules were refused: .*ip6tables-restore --wait 5: .*host\/network `10\.0\.0\.1' not found/,
        ),
      );
      assert.equal(await savedInAgentNamespace(agent, "ipv6"), "");
    });
  });

  it("a document refused at its last table leaves the tables before it as they were, not committed", async () => {
    await withAgent(async (agent, rpc) => {
      await setRules(rpc, "ipv4", `${IPV4_RULES}\n`);
      const before = await savedInAgentNamespace(agent, "ipv4");
      // raw did not exist and nat did: iptables-restore commits both before the kernel refuses filter's rule.
      const document =
        "*raw\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -j NOTRACK\nCOMMIT\n" +
        "*nat\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -s 10.0.0.3/32 -j RETURN\nCOMMIT\n" +
        "*filter\n:FORWARD ACCEPT [0:0]\n-A FORWARD -j DNAT --to-destination 10.0.0.4\nCOMMIT\n";
      await assert.rejects(
        setRules(rpc, "ipv4", document),
        failsWith(
          Code.INVALID_ARGUMENT,
          /RULE_APPEND failed \(Invalid argument\): rule in chain FORWARD \(tables raw, nat, filter put back as they were\)$/,
        ),
      );
      assert.equal(await savedInAgentNamespace(agent, "ipv4"), before);
    });
  });

  it("a table the document names replaces that table; tables it does not name stay", async () => {
    await withAgent(async (agent, rpc) => {
      await setRules(rpc, "ipv4", `${IPV4_RULES}\n`);
      await setRules(rpc, "ipv4", "*nat\n:PREROUTING ACCEPT [0:0]\nCOMMIT\n");
      const rules = await savedInAgentNamespace(agent, "ipv4");
      assert.match(rules, /-A BERTH -p tcp -m tcp --dport 22 -j ACCEPT/);
      assert.doesNotMatch(rules, /DNAT/);
    });
  });
});
