import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Code } from "../../src/protocol/ttrpc/code.js";
import { type AgentProcess, startAgent } from "../support/agent-process.js";
import { AgentRpc } from "../support/agent-rpc.js";
import { failsWith } from "../support/container-fixture.js";
import { type IpLink, ipIn, ipJson, type LinkAddresses, makeVeth, sysctlIn } from "../support/netns.js";

const V4 = 0;
const V6 = 1;

describe("UpdateInterface and ListInterfaces (the agent in its own network namespace, on veth pairs)", () => {
  let agent: AgentProcess;
  let rpc: AgentRpc;
  const addressesOf = (name: string) =>
    ipJson<LinkAddresses[]>(agent, ["addr", "show", "dev", name])[0]?.addr_info.map(
      (a) => `${a.local}/${a.prefixlen}`,
    ) ?? [];
  const linkOf = (name: string) => ipJson<IpLink[]>(agent, ["-d", "link", "show", "dev", name])[0];

  before(async () => {
    agent = await startAgent({ netns: true, args: ["--log-level", "warn"] });
    rpc = await AgentRpc.connect(agent.socketPath);
  });

  after(async () => {
    rpc?.close();
    await agent?.stop();
  });

  it("finds the link by MAC, names it, sets MTU, NOARP and exactly the addresses asked for, and brings it up", async () => {
    makeVeth(agent, "ui-a", "ui-a-peer", "02:00:00:00:01:01");
    ipIn(agent, ["addr", "add", "192.0.2.99/24", "dev", "ui-a"]);
    const reply = await rpc.call("updateInterface", {
      interface: {
        name: "eth0",
        hwAddr: "02:00:00:00:01:01",
        mtu: 1400n,
        rawFlags: 0x80,
        IPAddresses: [
          { family: V4, address: "10.10.0.2", mask: "24" },
          { family: V6, address: "2001:db8:10::2", mask: "64" },
        ],
      },
    });
    const link = linkOf("eth0");
    assert.ok(link);
    assert.equal(link.mtu, 1400);
    assert.ok(link.flags.includes("UP") && link.flags.includes("NOARP"), link.flags.join(","));
    const addresses = addressesOf("eth0");
    assert.ok(
      addresses.includes("10.10.0.2/24") && addresses.includes("2001:db8:10::2/64"),
      addresses.join(" "),
    );
    assert.ok(!addresses.includes("192.0.2.99/24"), "the address the request left out is removed");
    const v6 = ipJson<LinkAddresses[]>(agent, ["-6", "addr", "show", "dev", "eth0"])[0]?.addr_info ?? [];
    const global = v6.find((a) => a.local === "2001:db8:10::2");
    assert.ok(global && !global.tentative, "IPv6 addresses are added without DAD: usable at once");
    assert.equal(reply.name, "eth0");
    assert.equal(reply.mtu, 1400n);
    assert.equal(reply.hwAddr, "02:00:00:00:01:01");
    assert.ok(
      reply.IPAddresses.some((a) => a.address === "2001:db8:10::2" && a.family === V6 && a.mask === "64"),
    );
    assert.ok(reply.IPAddresses.some((a) => a.address === "10.10.0.2" && a.family === V4));

    await rpc.call("updateInterface", {
      interface: {
        name: "eth0",
        hwAddr: "02:00:00:00:01:01",
        mtu: 1400n,
        IPAddresses: [{ family: V4, address: "10.10.0.3", mask: "24" }],
      },
    });
    const after = addressesOf("eth0").filter((a) => !a.startsWith("fe80:"));
    assert.deepEqual(after, ["10.10.0.3/24"], "a repeated call replaces the addresses");
    assert.ok(!linkOf("eth0")?.flags.includes("NOARP"), "NOARP is cleared when raw_flags lacks it");
  });

  it("answers 'Link not found' for a MAC no link has, even when a link has the name (no hijack)", async () => {
    makeVeth(agent, "ui-b", "ui-b-peer", "02:00:00:00:02:01");
    await assert.rejects(
      rpc.call("updateInterface", { interface: { name: "ui-b", hwAddr: "02:00:00:00:02:99", mtu: 1500n } }),
      failsWith(Code.NOT_FOUND, /Link not found \(Address: 02:00:00:00:02:99\)/),
    );
    assert.equal(linkOf("ui-b")?.address, "02:00:00:00:02:01");
  });

  it("waits for a NIC given with a PCI path: the link that appears during the call is configured", async () => {
    const call = rpc.call("updateInterface", {
      interface: {
        name: "hot0",
        hwAddr: "02:00:00:00:03:01",
        mtu: 1500n,
        devicePath: "02/01",
        IPAddresses: [{ family: V4, address: "10.30.0.2", mask: "24" }],
      },
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    makeVeth(agent, "ui-c", "ui-c-peer", "02:00:00:00:03:01");
    const reply = await call;
    assert.equal(reply.name, "hot0");
    assert.equal(reply.devicePath, "02/01");
    assert.deepEqual(
      addressesOf("hot0").filter((a) => !a.startsWith("fe80:")),
      ["10.30.0.2/24"],
    );
  });

  it("gives up on a hot-plugged NIC after the hotplug timeout, still saying 'Link not found'", async () => {
    const started = Date.now();
    await assert.rejects(
      rpc.call("updateInterface", {
        interface: { name: "never", hwAddr: "02:00:00:00:04:01", devicePath: "02/05" },
      }),
      failsWith(Code.NOT_FOUND, /Link not found \(Address: 02:00:00:00:04:01\).*3000 ms.*02\/05/),
    );
    const waited = Date.now() - started;
    assert.ok(waited >= 2900 && waited < 6000, `waited ${waited} ms`);
  });

  it("refuses a bad request before touching anything, quoting the value", async () => {
    makeVeth(agent, "ui-d", "ui-d-peer", "02:00:00:00:05:01");
    ipIn(agent, ["addr", "add", "10.50.0.2/24", "dev", "ui-d"]);
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ IPAddresses: [{ family: V4, address: "10.50.0.3", mask: "33" }] }, /mask "33"/],
      [
        { IPAddresses: [{ family: V4, address: "10.50.0.300", mask: "24" }] },
        /"10\.50\.0\.300" is not an IP address/,
      ],
      [{ IPAddresses: [{ family: V6, address: "10.50.0.3", mask: "24" }] }, /is IPv4 but its family is v6/],
      [{ name: "a-name-too-long-for-linux" }, /longer than 15 bytes/],
    ];
    for (const [fields, pattern] of cases) {
      await assert.rejects(
        rpc.call("updateInterface", {
          interface: { name: "ui-d", hwAddr: "02:00:00:00:05:01", mtu: 1500n, ...fields },
        }),
        failsWith(Code.INVALID_ARGUMENT, pattern),
      );
    }
    await assert.rejects(
      rpc.call("updateInterface", { interface: { name: "ui-d", hwAddr: "" } }),
      failsWith(Code.INVALID_ARGUMENT, /no hwAddr/),
    );
    await assert.rejects(
      rpc.call("updateInterface", {}),
      failsWith(Code.INVALID_ARGUMENT, /empty update interface request/),
    );
    assert.deepEqual(
      addressesOf("ui-d").filter((a) => !a.startsWith("fe80:")),
      ["10.50.0.2/24"],
    );
  });

  it("a failure at the third address leaves the link exactly as it was (name, MTU, flags, addresses, routes)", async () => {
    makeVeth(agent, "ui-e", "ui-e-peer", "02:00:00:00:06:01");
    ipIn(agent, ["link", "set", "ui-e", "up"]);
    ipIn(agent, ["addr", "add", "10.60.0.2/24", "dev", "ui-e"]);
    ipIn(agent, ["addr", "add", "10.64.0.2/24", "dev", "ui-e", "label", "ui-e:alias"]);
    ipIn(agent, ["route", "add", "10.61.0.0/16", "via", "10.60.0.1", "dev", "ui-e"]);
    // The kernel refuses IPv6 on this one link: the third address fails after two were applied.
    ipIn(agent, ["link", "set", "ui-e", "mtu", "1500"]);
    sysctlIn(agent, "net.ipv6.conf.ui-e.disable_ipv6", "1");
    const before = { link: linkOf("ui-e"), addresses: addressesOf("ui-e"), routes: routesOf(agent, "ui-e") };
    await assert.rejects(
      rpc.call("updateInterface", {
        interface: {
          name: "renamed",
          hwAddr: "02:00:00:00:06:01",
          mtu: 1300n,
          rawFlags: 0x80,
          IPAddresses: [
            { family: V4, address: "10.62.0.2", mask: "24" },
            { family: V4, address: "10.63.0.2", mask: "24" },
            { family: V6, address: "2001:db8:62::2", mask: "64" },
          ],
        },
      }),
      (e: unknown) =>
        e instanceof Error && /cannot add address 2001:db8:62::2\/64 to renamed/.test(e.message),
    );
    const link = linkOf("ui-e");
    assert.ok(link, "the link has its old name back");
    assert.equal(link.mtu, before.link?.mtu);
    assert.deepEqual(link.flags, before.link?.flags);
    assert.deepEqual(addressesOf("ui-e"), before.addresses);
    const alias = ipJson<LinkAddresses[]>(agent, ["addr", "show", "dev", "ui-e"])[0]?.addr_info.find(
      (a) => a.local === "10.64.0.2",
    );
    assert.equal(alias?.label, "ui-e:alias", "an alias comes back with its label");
    assert.deepEqual(routesOf(agent, "ui-e"), before.routes);
  });

  it("swaps names with a link that holds the name asked for", async () => {
    makeVeth(agent, "ui-f", "ui-f-peer", "02:00:00:00:07:01");
    makeVeth(agent, "ethx", "ethx-peer", "02:00:00:00:07:02");
    await rpc.call("updateInterface", {
      interface: { name: "ethx", hwAddr: "02:00:00:00:07:01", mtu: 1500n },
    });
    assert.equal(linkOf("ethx")?.address, "02:00:00:00:07:01");
    assert.equal(linkOf("ui-f")?.address, "02:00:00:00:07:02");
  });

  it("ListInterfaces reports every link with its addresses, the right family and the MAC as ip shows it", async () => {
    makeVeth(agent, "ui-g", "ui-g-peer", "02:00:00:00:08:0a");
    ipIn(agent, ["addr", "add", "10.80.0.2/24", "dev", "ui-g"]);
    ipIn(agent, ["-6", "addr", "add", "2001:db8:80::2/64", "dev", "ui-g", "nodad"]);
    const { Interfaces } = await rpc.call("listInterfaces", {});
    const names = ipJson<IpLink[]>(agent, ["link", "show"]).map((l) => l.ifname);
    assert.deepEqual(Interfaces.map((i) => i.name).sort(), [...names].sort());
    const g = Interfaces.find((i) => i.name === "ui-g");
    assert.ok(g);
    assert.equal(g.hwAddr, "02:00:00:00:08:0a");
    assert.deepEqual(
      g.IPAddresses.map((a) => [a.family, a.address, a.mask]),
      [
        [V4, "10.80.0.2", "24"],
        [V6, "2001:db8:80::2", "64"],
      ],
    );
    const lo = Interfaces.find((i) => i.name === "lo");
    assert.ok(lo && lo.mtu === 65536n);
  });
});

function routesOf(agent: AgentProcess, device: string): string[] {
  return ipJson<{ dst: string; gateway?: string; protocol?: string }[]>(agent, [
    "route",
    "show",
    "dev",
    device,
  ])
    .map((r) => `${r.dst} ${r.gateway ?? ""} ${r.protocol ?? ""}`)
    .sort();
}
