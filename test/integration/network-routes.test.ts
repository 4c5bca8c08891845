import assert from "node:assert/strict";
import { after, before, describe, it, type TestContext } from "node:test";
import { Code } from "../../src/protocol/ttrpc/code.js";
import { type AgentProcess, startAgent } from "../support/agent-process.js";
import { AgentRpc } from "../support/agent-rpc.js";
import { failsWith } from "../support/container-fixture.js";
import { ipIn, ipJson, makeVeth, sysctlIn } from "../support/netns.js";

const V4 = 0;
const V6 = 1;
const SCOPE_LINK = 253;
const ONLINK = 4;
const NUD_REACHABLE = 2;

interface WireRoute {
  dest?: string;
  gateway?: string;
  device?: string;
  source?: string;
  scope?: number;
  family?: number;
  flags?: number;
  mtu?: number;
}

interface WireNeighbour {
  ip: string;
  device: string;
  lladdr?: string;
  state?: number;
}

/** A route as `ip -j route` prints it (the fields the tests read). */
interface IpRoute {
  dst: string;
  from?: string;
  gateway?: string;
  dev?: string;
  protocol?: string;
  scope?: string;
  prefsrc?: string;
  metric?: number;
  flags: string[];
  metrics?: { mtu?: number }[];
}

/** A route as `ip route` writes it, from its JSON. */
const ipRouteText = (r: IpRoute) =>
  [
    r.dst,
    r.from && `from ${r.from}`,
    r.gateway && `via ${r.gateway}`,
    `dev ${r.dev}`,
    r.protocol && `proto ${r.protocol}`,
    r.scope && `scope ${r.scope}`,
    r.prefsrc && `src ${r.prefsrc}`,
    r.metric !== undefined && `metric ${r.metric}`,
    r.metrics?.[0]?.mtu && `mtu ${r.metrics[0].mtu}`,
    ...r.flags,
  ]
    .filter(Boolean)
    .join(" ");

const SCOPES: Record<string, number> = { link: SCOPE_LINK, host: 254 };

/** The fields a ListRoutes entry and an `ip -j route` entry share, side by side. */
const wireText = (r: Required<WireRoute>) =>
  `${r.dest || "default"} via ${r.gateway} dev ${r.device} src ${r.source} scope ${r.scope} family ${r.family} mtu ${r.mtu}`;

describe("UpdateRoutes, ListRoutes and AddARPNeighbors (the agent in its own network namespace, no CreateSandbox)", () => {
  let agent: AgentProcess;
  let rpc: AgentRpc;

  /** A veth link, up, with `addresses`; deleted (with its routes and neighbours) when the test ends. */
  const link = (t: TestContext, name: string, mac: string, addresses: string[] = []) => {
    makeVeth(agent, name, `${name}-p`, mac);
    ipIn(agent, ["link", "set", name, "up"]);
    for (const address of addresses) {
      ipIn(agent, [...(address.includes(":") ? ["-6"] : []), "addr", "add", address, "dev", name, "nodad"]);
    }
    t.after(() => ipIn(agent, ["link", "del", name]));
  };

  const ipRoutes = (family: "-4" | "-6") =>
    ipJson<IpRoute[]>(agent, [family, "route", "show", "table", "main"]);

  /** The main table's routes of `device` as `ip route` writes them, sorted. */
  const routesOf = (device: string, family: "-4" | "-6" = "-4") =>
    ipRoutes(family)
      .filter((r) => r.dev === device)
      .map(ipRouteText)
      .sort();

  /** The whole main table (both families), `ip route` style: to show nothing else moved. */
  const mainTable = () => [...ipRoutes("-4"), ...ipRoutes("-6")].map(ipRouteText).sort();

  const updateRoutes = (routes: WireRoute[], timeoutMs?: number) =>
    rpc.call("updateRoutes", { routes: { Routes: routes } }, timeoutMs);

  const addNeighbours = (neighbours: WireNeighbour[], timeoutMs?: number) =>
    rpc.call(
      "addARPNeighbors",
      {
        neighbors: {
          ARPNeighbors: neighbours.map((n) => ({
            toIPAddress: { family: n.ip.includes(":") ? V6 : V4, address: n.ip, mask: "" },
            device: n.device,
            lladdr: n.lladdr ?? "",
            state: n.state ?? 0,
          })),
        },
      },
      timeoutMs,
    );

  /** `ip neigh` of `device`: "ip lladdr STATE", sorted. */
  const neighboursOf = (device: string) =>
    ipJson<{ dst: string; lladdr?: string; state: string[] }[]>(agent, ["neigh", "show", "dev", device])
      .map((n) => `${n.dst} ${n.lladdr ?? "-"} ${n.state.join(",")}`)
      .sort();

  before(async () => {
    agent = await startAgent({ netns: true, args: ["--log-level", "warn"] });
    rpc = await AgentRpc.connect(agent.socketPath);
    ipIn(agent, ["link", "set", "lo", "up"]);
  });

  after(async () => {
    rpc?.close();
    await agent?.stop();
  });

  it("replaces the routes of the links it names; kernel routes, lo's and other links' stay; answers the main table", async (t) => {
    link(t, "rt-a", "02:00:00:01:01:01", ["10.1.0.2/24"]);
    link(t, "rt-b", "02:00:00:01:01:02", ["10.2.0.2/24"]);
    ipIn(agent, ["route", "add", "10.9.0.0/16", "via", "10.1.0.1", "dev", "rt-a"]);
    ipIn(agent, ["route", "add", "10.8.0.0/16", "via", "10.2.0.1", "dev", "rt-b"]);
    ipIn(agent, ["route", "add", "198.51.100.0/24", "dev", "lo"]);
    const rtB = routesOf("rt-b");
    const reply = await updateRoutes([
      { dest: "10.20.0.0/16", gateway: "10.1.0.1", device: "rt-a" },
      { dest: "10.21.0.0/16", device: "rt-a", scope: SCOPE_LINK },
    ]);
    assert.deepEqual(routesOf("rt-a"), [
      "10.1.0.0/24 dev rt-a proto kernel scope link src 10.1.0.2",
      "10.20.0.0/16 via 10.1.0.1 dev rt-a",
      "10.21.0.0/16 dev rt-a scope link",
    ]);
    assert.deepEqual(routesOf("rt-b"), rtB, "a link the request does not name keeps its routes");
    assert.ok(routesOf("lo").includes("198.51.100.0/24 dev lo scope link"), routesOf("lo").join("; "));
    const { Routes: listed } = await rpc.call("listRoutes", {});
    assert.deepEqual(reply.Routes, listed, "the reply is the main table as ListRoutes shows it");
    assert.ok(
      reply.Routes.some(
        (r) =>
          r.dest === "10.20.0.0/16" && r.gateway === "10.1.0.1" && r.device === "rt-a" && r.family === V4,
      ),
    );

    await updateRoutes([{ dest: "10.22.0.0/16", gateway: "10.1.0.1", device: "rt-a" }]);
    assert.deepEqual(routesOf("rt-a"), [
      "10.1.0.0/24 dev rt-a proto kernel scope link src 10.1.0.2",
      "10.22.0.0/16 via 10.1.0.1 dev rt-a",
    ]);
    assert.deepEqual(routesOf("rt-b"), rtB);
  });

  it("adds routes without a gateway first, whatever the request order: a gateway reachable only through one works", async (t) => {
    link(t, "rt-c", "02:00:00:01:02:01");
    await updateRoutes([
      { dest: "", gateway: "169.254.1.1", device: "rt-c" },
      { dest: "169.254.1.1/32", device: "rt-c", scope: SCOPE_LINK },
    ]);
    assert.deepEqual(routesOf("rt-c"), [
      "169.254.1.1 dev rt-c scope link",
      "default via 169.254.1.1 dev rt-c",
    ]);
  });

  it("sets IPv6 routes: a link route, a default via fe80::1 and a route via a global gateway", async (t) => {
    link(t, "rt-d", "02:00:00:01:03:01", ["2001:db8:d::2/64"]);
    const reply = await updateRoutes([
      { dest: "2001:db8:f::/64", gateway: "2001:db8:d::1", device: "rt-d", family: V6 },
      { dest: "", gateway: "fe80::1", device: "rt-d", family: V6 },
      { dest: "2001:db8:e::/64", device: "rt-d", family: V6 },
    ]);
    assert.deepEqual(routesOf("rt-d", "-6"), [
      "2001:db8:d::/64 dev rt-d proto kernel metric 256",
      "2001:db8:e::/64 dev rt-d metric 1024",
      "2001:db8:f::/64 via 2001:db8:d::1 dev rt-d metric 1024",
      "default via fe80::1 dev rt-d metric 1024",
      "fe80::/64 dev rt-d proto kernel metric 256",
    ]);
    const ours = reply.Routes.filter((r) => r.device === "rt-d").map(
      (r) => `${r.dest}|${r.gateway}|${r.family}`,
    );
    assert.deepEqual(ours.sort(), [
      "2001:db8:d::/64||1",
      "2001:db8:e::/64||1",
      "2001:db8:f::/64|2001:db8:d::1|1",
      "fe80::/64||1",
      "|fe80::1|1",
    ]);
  });

  it("takes an IPv6 prefix with host bits as the network the kernel keeps: a repeated call keeps the route", async (t) => {
    link(t, "rt-h", "02:00:00:01:03:02");
    const request: WireRoute[] = [
      { dest: "2001:db8:c::5/64", device: "rt-h", family: V6 },
      { dest: "2001:db8:b::/64", gateway: "fe80::1", source: "2001:db8:a::7/64", device: "rt-h", family: V6 },
    ];
    const expected = [
      "2001:db8:b::/64 from 2001:db8:a::/64 via fe80::1 dev rt-h metric 1024",
      "2001:db8:c::/64 dev rt-h metric 1024",
      "fe80::/64 dev rt-h proto kernel metric 256",
    ];
    await updateRoutes(request);
    assert.deepEqual(routesOf("rt-h", "-6"), expected);
    await updateRoutes(request);
    assert.deepEqual(routesOf("rt-h", "-6"), expected);
    const table = mainTable();
    await assert.rejects(
      updateRoutes([{ dest: "10.12.0.5/16", device: "rt-h", scope: SCOPE_LINK }]),
      (e: unknown) =>
        e instanceof Error && /cannot add route 10\.12\.0\.5\/16 dev rt-h: Invalid prefix/.test(e.message),
      "IPv4 host bits are the kernel's refusal",
    );
    assert.deepEqual(mainTable(), table);
  });

  it("skips IPv6 routes, with a warning, when the guest has IPv6 off (as Kata does), and applies the IPv4 ones", async (t) => {
    link(t, "rt-x", "02:00:00:01:03:03");
    for (const which of ["all", "default"]) sysctlIn(agent, `net.ipv6.conf.${which}.disable_ipv6`, "1");
    t.after(() => {
      for (const which of ["all", "default"]) sysctlIn(agent, `net.ipv6.conf.${which}.disable_ipv6`, "0");
    });
    await updateRoutes([
      { dest: "10.13.0.0/16", device: "rt-x", scope: SCOPE_LINK },
      { dest: "2001:db8:13::/64", device: "rt-x", family: V6 },
    ]);
    assert.deepEqual(routesOf("rt-x"), ["10.13.0.0/16 dev rt-x scope link"]);
    assert.deepEqual(routesOf("rt-x", "-6"), []);
  });

  it("takes a plain source as the preferred source, an IPv6 source prefix as a source-specific route, and refuses an IPv4 one", async (t) => {
    link(t, "rt-s", "02:00:00:01:04:01", ["10.40.0.2/24", "2001:db8:40::2/64"]);
    await updateRoutes([
      { dest: "10.41.0.0/16", device: "rt-s", scope: SCOPE_LINK, source: "10.40.0.2" },
      { dest: "10.42.0.0/16", gateway: "10.40.0.1", device: "rt-s", source: "10.40.0.2/32" },
      {
        dest: "2001:db8:41::/64",
        gateway: "fe80::1",
        device: "rt-s",
        source: "2001:db8:40::/64",
        family: V6,
      },
      { dest: "2001:db8:42::/64", gateway: "fe80::1", device: "rt-s", source: "2001:db8:40::2", family: V6 },
    ]);
    assert.deepEqual(routesOf("rt-s"), [
      "10.40.0.0/24 dev rt-s proto kernel scope link src 10.40.0.2",
      "10.41.0.0/16 dev rt-s scope link src 10.40.0.2",
      "10.42.0.0/16 via 10.40.0.1 dev rt-s src 10.40.0.2",
    ]);
    const v6 = routesOf("rt-s", "-6");
    assert.ok(
      v6.includes("2001:db8:41::/64 from 2001:db8:40::/64 via fe80::1 dev rt-s metric 1024"),
      v6.join("; "),
    );
    assert.ok(
      v6.includes("2001:db8:42::/64 via fe80::1 dev rt-s src 2001:db8:40::2 metric 1024"),
      v6.join("; "),
    );
    const listed = (await rpc.call("listRoutes", {})).Routes.filter((r) => r.device === "rt-s");
    assert.equal(listed.find((r) => r.dest === "10.41.0.0/16")?.source, "10.40.0.2");
    assert.equal(listed.find((r) => r.dest === "2001:db8:41::/64")?.source, "2001:db8:40::/64");

    const table = mainTable();
    await assert.rejects(
      updateRoutes([{ dest: "10.43.0.0/16", device: "rt-s", source: "10.40.0.0/24" }]),
      failsWith(Code.INVALID_ARGUMENT, /IPv4 routes have no source prefix \(10\.40\.0\.0\/24\)/),
    );
    await assert.rejects(
      updateRoutes([{ dest: "10.43.0.0/16", device: "rt-s", scope: SCOPE_LINK, source: "10.99.0.9" }]),
      (e: unknown) =>
        e instanceof Error &&
        /cannot add route 10\.43\.0\.0\/16 dev rt-s src 10\.99\.0\.9: .*EINVAL/.test(e.message),
      "a preferred source not on the link is the kernel's refusal",
    );
    assert.deepEqual(mainTable(), table);
  });

  it("with flags=4 (onlink) takes a gateway outside every prefix; without it quotes ENETUNREACH, the table as it was", async (t) => {
    link(t, "rt-o", "02:00:00:01:05:01", ["10.50.0.2/24"]);
    await updateRoutes([{ dest: "10.51.0.0/16", gateway: "192.0.2.1", device: "rt-o", flags: ONLINK }]);
    assert.ok(
      routesOf("rt-o").includes("10.51.0.0/16 via 192.0.2.1 dev rt-o onlink"),
      routesOf("rt-o").join("; "),
    );

    ipIn(agent, ["route", "add", "10.53.0.0/16", "via", "10.50.0.1", "dev", "rt-o"]);
    const table = mainTable();
    await assert.rejects(
      updateRoutes([
        // The subnet route as a CNI that adds it itself has it: its key is the kernel route's, which it overwrites.
        { dest: "10.50.0.0/24", device: "rt-o", scope: SCOPE_LINK, source: "10.50.0.2" },
        { dest: "10.53.0.0/16", gateway: "10.50.0.3", device: "rt-o" },
        { dest: "10.54.0.0/16", device: "rt-o", scope: SCOPE_LINK },
        { dest: "10.55.0.0/16", gateway: "192.0.2.1", device: "rt-o" },
      ]),
      (e: unknown) =>
        e instanceof Error &&
        /cannot add route 10\.55\.0\.0\/16 via 192\.0\.2\.1 dev rt-o: .*\(ENETUNREACH\)/.test(e.message) &&
        !/undoing it failed/.test(e.message),
    );
    assert.deepEqual(mainTable(), table, "a failure half way puts the old table back");
  });

  it("sets a route's MTU and scope", async (t) => {
    link(t, "rt-m", "02:00:00:01:06:01");
    const reply = await updateRoutes([
      { dest: "10.60.0.0/16", device: "rt-m", scope: SCOPE_LINK, mtu: 1400 },
    ]);
    assert.deepEqual(routesOf("rt-m"), ["10.60.0.0/16 dev rt-m scope link mtu 1400"]);
    const listed = reply.Routes.find((r) => r.device === "rt-m");
    assert.equal(listed?.mtu, 1400);
    assert.equal(listed?.scope, SCOPE_LINK);
  });

  it("refuses a bad request before touching anything", async (t) => {
    link(t, "rt-v", "02:00:00:01:07:01", ["10.70.0.2/24"]);
    ipIn(agent, ["route", "add", "10.71.0.0/16", "via", "10.70.0.1", "dev", "rt-v"]);
    const table = mainTable();
    const good = { dest: "10.72.0.0/16", device: "rt-v", scope: SCOPE_LINK };
    const cases: [WireRoute, Code, RegExp][] = [
      [{ dest: "10.73.0.0/16", device: "nope0" }, Code.NOT_FOUND, /Link not found \(Name: nope0\)/],
      [{ dest: "10.73.0.0/33", device: "rt-v" }, Code.INVALID_ARGUMENT, /destination "10\.73\.0\.0\/33"/],
      [{ dest: "not-an-ip", device: "rt-v" }, Code.INVALID_ARGUMENT, /destination "not-an-ip"/],
      [
        { dest: "10.73.0.0/16", gateway: "10.70.0.300", device: "rt-v" },
        Code.INVALID_ARGUMENT,
        /gateway "10\.70\.0\.300"/,
      ],
      [
        { dest: "10.73.0.0/16", gateway: "10.70.0.1", device: "rt-v", family: V6 },
        Code.INVALID_ARGUMENT,
        /has IPv4 addresses but its family is v6/,
      ],
      [{ dest: "10.73.0.0/16", device: "" }, Code.INVALID_ARGUMENT, /names no device/],
    ];
    for (const [route, code, pattern] of cases) {
      await assert.rejects(updateRoutes([good, route]), failsWith(code, pattern));
    }
    await assert.rejects(
      rpc.call("updateRoutes", {}),
      failsWith(Code.INVALID_ARGUMENT, /empty update routes request/),
    );
    assert.deepEqual(mainTable(), table);
  });

  it("ListRoutes: the real destination of gateway routes, the right family, default routes as '', `default dev X`, only the main table", async (t) => {
    link(t, "rt-l", "02:00:00:01:08:01", ["10.80.0.2/24", "2001:db8:80::2/64"]);
    ipIn(agent, ["route", "add", "10.81.0.0/24", "via", "10.80.0.1", "dev", "rt-l"]);
    ipIn(agent, ["route", "add", "default", "dev", "rt-l"]);
    ipIn(agent, ["-6", "route", "add", "2001:db8:81::/64", "via", "fe80::1", "dev", "rt-l"]);
    ipIn(agent, ["route", "add", "10.82.0.0/24", "dev", "rt-l", "table", "100"]);
    const { Routes } = await rpc.call("listRoutes", {});
    const ours = Routes.filter((r) => r.device === "rt-l");
    const find = (dest: string) => ours.find((r) => r.dest === dest);
    const viaGateway = find("10.81.0.0/24");
    assert.ok(viaGateway, "a gateway route is listed with its own destination (Kata says 0.0.0.0)");
    assert.equal(viaGateway.gateway, "10.80.0.1");
    assert.equal(viaGateway.family, V4);
    assert.equal(find("2001:db8:81::/64")?.gateway, "fe80::1");
    assert.equal(find("2001:db8:81::/64")?.family, V6);
    assert.equal(find("2001:db8:80::/64")?.family, V6);
    assert.equal(
      find("10.80.0.0/24")?.source,
      "10.80.0.2",
      "the kernel's preferred source is the route's source",
    );
    const fallback = find("");
    assert.ok(fallback, "`default dev rt-l` (neither gateway nor destination) is listed");
    assert.equal(fallback.gateway, "");
    assert.equal(fallback.family, V4);
    assert.ok(!find("10.82.0.0/24"), "a route of table 100 is not in the main table");
    assert.ok(!Routes.some((r) => r.dest.startsWith("127.")), "local-table routes are not listed");

    const fromIp = [
      ...ipRoutes("-4").map((r) => ({ r, family: V4 })),
      ...ipRoutes("-6").map((r) => ({ r, family: V6 })),
    ].map(({ r, family }) =>
      wireText({
        dest: r.dst === "default" ? "" : r.dst.includes("/") ? r.dst : `${r.dst}/${family === V4 ? 32 : 128}`,
        gateway: r.gateway ?? "",
        device: r.dev ?? "",
        source: r.prefsrc ?? r.from ?? "",
        scope: r.scope ? (SCOPES[r.scope] ?? -1) : 0,
        family,
        flags: 0,
        mtu: r.metrics?.[0]?.mtu ?? 0,
      }),
    );
    assert.deepEqual(Routes.map((r) => wireText(r)).sort(), fromIp.sort(), "ListRoutes is what ip shows");
  });

  it("AddARPNeighbors adds IPv4 and IPv6 neighbours, state 0 as PERMANENT, others as given; a repeat changes nothing", async (t) => {
    link(t, "nb-a", "02:00:00:01:09:01", ["10.90.0.2/24", "2001:db8:90::2/64"]);
    const entries: WireNeighbour[] = [
      { ip: "10.90.0.5", device: "nb-a", lladdr: "02:00:00:00:90:05" },
      { ip: "10.90.0.6", device: "nb-a", lladdr: "02:00:00:00:90:06", state: NUD_REACHABLE },
      { ip: "2001:db8:90::5", device: "nb-a", lladdr: "02:00:00:00:90:15" },
    ];
    await addNeighbours(entries);
    const expected = [
      "10.90.0.5 02:00:00:00:90:05 PERMANENT",
      "10.90.0.6 02:00:00:00:90:06 REACHABLE",
      "2001:db8:90::5 02:00:00:00:90:15 PERMANENT",
    ];
    assert.deepEqual(neighboursOf("nb-a"), expected);
    await addNeighbours(entries);
    assert.deepEqual(neighboursOf("nb-a"), expected);
  });

  it("AddARPNeighbors refuses a bad entry before adding any", async (t) => {
    link(t, "nb-b", "02:00:00:01:0a:01", ["10.91.0.2/24"]);
    const good = { ip: "10.91.0.5", device: "nb-b", lladdr: "02:00:00:00:91:05" };
    const cases: [WireNeighbour, Code, RegExp][] = [
      [
        { ip: "10.91.0.300", device: "nb-b", lladdr: "02:00:00:00:91:06" },
        Code.INVALID_ARGUMENT,
        /"10\.91\.0\.300" is not an IP address/,
      ],
      [
        { ip: "10.91.0.6", device: "nope0", lladdr: "02:00:00:00:91:06" },
        Code.NOT_FOUND,
        /Link not found \(Name: nope0\)/,
      ],
      [
        { ip: "10.91.0.6", device: "nb-b", lladdr: "02:zz:00:00:91:06" },
        Code.INVALID_ARGUMENT,
        /lladdr "02:zz:00:00:91:06"/,
      ],
    ];
    for (const [entry, code, pattern] of cases) {
      await assert.rejects(addNeighbours([good, entry]), failsWith(code, pattern));
    }
    await assert.rejects(
      rpc.call("addARPNeighbors", {}),
      failsWith(Code.INVALID_ARGUMENT, /empty add arp neighbours request/),
    );
    assert.deepEqual(neighboursOf("nb-b"), []);
  });

  it("AddARPNeighbors: a kernel refusal after two entries takes the added one away and puts the replaced one back", async (t) => {
    link(t, "nb-c", "02:00:00:01:0b:01", ["10.92.0.2/24"]);
    ipIn(agent, [
      "neigh",
      "add",
      "10.92.0.9",
      "lladdr",
      "02:00:00:00:92:09",
      "dev",
      "nb-c",
      "nud",
      "permanent",
    ]);
    // The kernel refuses IPv6 neighbours on a link whose IPv6 is off: the third entry fails.
    sysctlIn(agent, "net.ipv6.conf.nb-c.disable_ipv6", "1");
    const before = neighboursOf("nb-c");
    await assert.rejects(
      addNeighbours([
        { ip: "10.92.0.8", device: "nb-c", lladdr: "02:00:00:00:92:08" },
        { ip: "10.92.0.9", device: "nb-c", lladdr: "02:00:00:00:92:99", state: NUD_REACHABLE },
        { ip: "2001:db8:92::8", device: "nb-c", lladdr: "02:00:00:00:92:18" },
      ]),
      (e: unknown) =>
        e instanceof Error && /cannot add neighbour 2001:db8:92::8: .*IPv6 is disabled/.test(e.message),
    );
    assert.deepEqual(neighboursOf("nb-c"), before);
  });

  it("answers every network RPC while an UpdateInterface waits for a hot-plugged NIC", async (t) => {
    link(t, "rt-w", "02:00:00:01:0c:01", ["10.93.0.2/24"]);
    let waiting = true;
    const hotplug = rpc
      .call("updateInterface", {
        interface: { name: "hot-w", hwAddr: "02:00:00:01:0c:09", devicePath: "02/03", mtu: 1500n },
      })
      .finally(() => {
        waiting = false;
      });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const quick = 1000;
    await rpc.call("listRoutes", {}, quick);
    await rpc.call("listInterfaces", {}, quick);
    await updateRoutes([{ dest: "10.94.0.0/16", device: "rt-w", scope: SCOPE_LINK }], quick);
    await addNeighbours([{ ip: "10.93.0.5", device: "rt-w", lladdr: "02:00:00:00:93:05" }], quick);
    await rpc.call(
      "updateInterface",
      {
        interface: {
          name: "rt-w",
          hwAddr: "02:00:00:01:0c:01",
          mtu: 1500n,
          IPAddresses: [{ family: V4, address: "10.93.0.2", mask: "24" }],
        },
      },
      quick,
    );
    assert.ok(waiting, "the hot-plugged NIC is still awaited");
    assert.ok(routesOf("rt-w").includes("10.94.0.0/16 dev rt-w scope link"));
    makeVeth(agent, "rt-hot", "rt-hot-p", "02:00:00:01:0c:09");
    t.after(() => ipIn(agent, ["link", "del", "hot-w"]));
    const reply = await hotplug;
    assert.equal(reply.name, "hot-w");
  });
});
