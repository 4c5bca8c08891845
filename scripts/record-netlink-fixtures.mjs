// Records the rtnetlink fixtures of src/network/netlink/testdata/: the kernel's own datagrams for link,
// address, route and neighbour dumps, read through berth's NetlinkSocket with requests berth's codec encodes,
// next to what `ip -json` shows for the same objects at the same moment; and berth-encoded changes the kernel
// accepted or refused, each with the datagrams it answered (and, for a refusal, what `ip` says to the same
// request). As root, after `npm run build`:
//
//   node scripts/record-netlink-fixtures.mjs
//
// It runs itself again in a network namespace of its own (unshare --net) and builds everything there: the
// machine's own namespace is never touched, and the scratch one goes when the process ends.
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseIp, parseMac } from "../dist/src/network/ip-address.js";
import {
  addressBody,
  IFA_F_NODAD,
  ifaddrmsg,
  RTM_DELADDR,
  RTM_GETADDR,
  RTM_NEWADDR,
} from "../dist/src/network/netlink/address-message.js";
import {
  IFF_UP,
  ifinfomsg,
  linkChangeBody,
  RTM_GETLINK,
  RTM_SETLINK,
  withoutStats,
} from "../dist/src/network/netlink/link-message.js";
import {
  NUD_PERMANENT,
  ndmsg,
  neighbourBody,
  RTM_GETNEIGH,
  RTM_NEWNEIGH,
} from "../dist/src/network/netlink/neighbour-message.js";
import {
  encodeMessage,
  NLM_F_ACK,
  NLM_F_CREATE,
  NLM_F_DUMP,
  NLM_F_EXCL,
  NLM_F_REPLACE,
  NLM_F_REQUEST,
  NLMSG_DONE,
  NLMSG_ERROR,
  splitMessages,
} from "../dist/src/network/netlink/netlink-message.js";
import {
  mainTableDump,
  RT_TABLE_MAIN,
  RTM_GETROUTE,
  RTM_NEWROUTE,
  RTN_UNICAST,
  RTPROT_BOOT,
  routeBody,
} from "../dist/src/network/netlink/route-message.js";
import { NETLINK_ROUTE, NetlinkSocket } from "../dist/src/sys/netlink-socket.js";

const INSIDE = "--in-scratch-netns";
const TESTDATA = new URL("../src/network/netlink/testdata/", import.meta.url);

const netns = readlinkSync("/proc/self/ns/net");
if (process.argv[2] !== INSIDE) {
  const self = fileURLToPath(import.meta.url);
  const run = spawnSync("unshare", ["--net", "--", process.execPath, self, INSIDE, netns], {
    stdio: "inherit",
  });
  process.exit(run.status ?? 1);
}
if (netns === process.argv[3]) throw new Error("refusing to record in the starting network namespace");

const ip = (...args) => execFileSync("ip", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
const ipJson = (...args) => JSON.parse(ip("-j", ...args) || "[]");
if (ipJson("link").length !== 1) throw new Error("the scratch namespace should hold only lo");

const socket = NetlinkSocket.open(NETLINK_ROUTE);
let seq = 1000;

/** Sends one request; resolves with every datagram the kernel answered it with, up to its DONE or ack. */
function exchange(type, flags, body) {
  const request = encodeMessage(
    { type, flags: flags | NLM_F_REQUEST, seq: ++seq },
    body.fixed,
    body.attributes,
  );
  const datagrams = [];
  const ended = () => {
    socket.drain((datagram) => {
      datagrams.push(Buffer.from(datagram));
    });
    return datagrams.some((d) =>
      splitMessages(d).some((m) => m.seq === seq && (m.type === NLMSG_DONE || m.type === NLMSG_ERROR)),
    );
  };
  socket.send(request);
  return new Promise((resolve, reject) => {
    const answered = () =>
      resolve({ request: request.toString("hex"), datagrams: datagrams.map((d) => d.toString("hex")) });
    if (ended()) return answered();
    const timer = setTimeout(() => reject(new Error(`no answer to netlink request ${type}`)), 5000);
    socket.listen(() => {
      if (!ended()) return;
      clearTimeout(timer);
      answered();
    });
  });
}

/** A dump and `ip`'s view of the same table, taken again until `ip` shows the same before and after it. */
async function snapshot(dump, show) {
  for (let attempt = 0; attempt < 10; attempt++) {
    const before = JSON.stringify(show());
    const recorded = await dump();
    const after = show();
    if (JSON.stringify(after) === before) return { ...recorded, ip: after };
  }
  throw new Error("the table kept changing while it was recorded");
}

const mac = (text) => parseMac(text);
const bytes = (text) => parseIp(text).bytes;
const indexOf = (name) => ipJson("link", "show", name)[0].ifindex;

// Built with ip: links (veth pairs with MACs and an MTU, one NOARP, a bridge), addresses, routes, neighbours.
for (const args of [
  ["link", "set", "lo", "up"],
  [
    "link",
    "add",
    "veth0",
    "address",
    "02:00:00:00:00:01",
    "mtu",
    "1400",
    "type",
    "veth",
    "peer",
    "name",
    "veth0p",
  ],
  ["link", "add", "veth1", "address", "02:00:00:00:01:01", "type", "veth", "peer", "name", "veth1p"],
  ["link", "add", "br0", "address", "02:00:00:00:0b:01", "type", "bridge"],
  ["link", "add", "nlrename0", "address", "02:00:00:00:02:01", "type", "veth", "peer", "name", "veth2p"],
  ["link", "set", "veth1", "arp", "off"],
  ["link", "set", "veth1p", "master", "br0"],
  ...["veth0", "veth0p", "veth1", "veth1p", "veth2p", "br0"].map((name) => ["link", "set", name, "up"]),
  ["addr", "add", "10.1.0.2/24", "dev", "veth0"],
  ["addr", "add", "10.1.0.3/24", "dev", "veth0", "label", "veth0:1"],
  ["addr", "add", "2001:db8:1::2/64", "dev", "veth0", "nodad"],
  ["addr", "add", "10.2.0.1", "peer", "10.2.0.2/32", "dev", "veth1"],
  ["addr", "add", "2001:db8:2::1/64", "dev", "veth1", "nodad"],
  ["route", "add", "default", "via", "10.1.0.1"],
  ["route", "add", "10.9.0.0/16", "via", "10.1.0.1", "mtu", "1300"],
  ["route", "add", "10.8.0.0/16", "via", "10.99.0.1", "dev", "veth0", "onlink"],
  ["route", "add", "10.7.0.0/16", "dev", "veth0", "src", "10.1.0.2"],
  ["route", "add", "10.6.0.0/16", "via", "10.1.0.1", "metric", "100"],
  ["route", "add", "10.5.0.0/16", "dev", "veth0", "proto", "static", "scope", "link"],
  ["-6", "route", "add", "2001:db8:9::/48", "via", "fe80::1", "dev", "veth0"],
  ["-6", "route", "add", "2001:db8:7::/48", "from", "2001:db8:1::/64", "via", "fe80::1", "dev", "veth0"],
  ["-6", "route", "add", "default", "via", "fe80::1", "dev", "veth0", "mtu", "1280"],
  ["neigh", "add", "10.1.0.50", "lladdr", "02:00:00:00:00:50", "dev", "veth0", "nud", "permanent"],
  ["neigh", "add", "10.1.0.51", "lladdr", "02:00:00:00:00:51", "dev", "veth0", "nud", "reachable"],
  ["neigh", "add", "2001:db8:1::50", "lladdr", "02:00:00:00:00:60", "dev", "veth0", "nud", "permanent"],
  ["neigh", "add", "2001:db8:1::51", "lladdr", "02:00:00:00:00:61", "dev", "veth0", "nud", "reachable"],
]) {
  ip(...args);
}

// Made with berth's encoder: a rename and MTU (the link down, as a rename needs), the link up, an address of
// each family, a route with a nested RTA_METRICS, a permanent neighbour. The dumps that follow show them.
const veth2 = indexOf("nlrename0");
const v4 = { family: 2, prefixLength: 24, flags: 0, scope: 0, index: veth2, address: bytes("10.3.0.2") };
const v6 = { ...v4, family: 10, prefixLength: 64, flags: IFA_F_NODAD, address: bytes("2001:db8:3::2") };
const changes = [
  [
    "rename nlrename0 to veth2, mtu 1450",
    RTM_SETLINK,
    0,
    linkChangeBody({ index: veth2, name: "veth2", mtu: 1450 }),
  ],
  ["set veth2 up", RTM_SETLINK, 0, linkChangeBody({ index: veth2, flags: IFF_UP, flagMask: IFF_UP })],
  ["add 10.3.0.2/24 to veth2", RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, addressBody(v4)],
  ["add 2001:db8:3::2/64 nodad to veth2", RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, addressBody(v6)],
  [
    "replace 10.30.0.0/16 via 10.3.0.1 dev veth2 mtu 1400",
    RTM_NEWROUTE,
    NLM_F_CREATE | NLM_F_REPLACE,
    routeBody({
      ...{ family: 2, dstLength: 16, srcLength: 0, tos: 0, table: RT_TABLE_MAIN, protocol: RTPROT_BOOT },
      ...{ scope: 0, type: RTN_UNICAST, flags: 0, dst: bytes("10.30.0.0"), gateway: bytes("10.3.0.1") },
      ...{ oif: veth2, mtu: 1400 },
    }),
  ],
  [
    "replace neighbour 10.3.0.9 lladdr 02:00:00:00:03:09 dev veth2 permanent",
    RTM_NEWNEIGH,
    NLM_F_CREATE | NLM_F_REPLACE,
    neighbourBody({
      ...{ family: 2, index: veth2, state: NUD_PERMANENT, flags: 0, type: 0 },
      ...{ dst: bytes("10.3.0.9"), lladdr: mac("02:00:00:00:03:09") },
    }),
  ],
];
const accepted = [];
for (const [what, type, flags, body] of changes) {
  accepted.push({ what, ...(await exchange(type, flags | NLM_F_ACK, body)) });
}

/** What `ip` writes to stderr when asked for the same change. */
function ipRefusal(args) {
  const run = spawnSync("ip", args, { encoding: "utf8" });
  if (run.status === 0) throw new Error(`ip ${args.join(" ")} was accepted`);
  return { argv: ["ip", ...args], stderr: run.stderr.trim() };
}

const unreachable = routeBody({
  ...{ family: 2, dstLength: 16, srcLength: 0, tos: 0, table: RT_TABLE_MAIN, protocol: RTPROT_BOOT },
  ...{ scope: 0, type: RTN_UNICAST, flags: 0, dst: bytes("10.40.0.0"), gateway: bytes("192.0.2.1") },
});
const missingAddress = addressBody({ ...v4, address: bytes("10.3.0.99") });
const refusals = [
  [
    "add 10.40.0.0/16 via 192.0.2.1 (no route to the gateway)",
    RTM_NEWROUTE,
    NLM_F_CREATE | NLM_F_EXCL,
    unreachable,
    ["route", "add", "10.40.0.0/16", "via", "192.0.2.1"],
  ],
  [
    "set veth2 mtu 0",
    RTM_SETLINK,
    0,
    linkChangeBody({ index: veth2, mtu: 0 }),
    ["link", "set", "veth2", "mtu", "0"],
  ],
  [
    "delete 10.3.0.99/24 from veth2 (not there)",
    RTM_DELADDR,
    0,
    missingAddress,
    ["addr", "del", "10.3.0.99/24", "dev", "veth2"],
  ],
];
const refused = [];
for (const [what, type, flags, body, ipArgs] of refusals) {
  refused.push({ what, ...(await exchange(type, flags | NLM_F_ACK, body)), ip: ipRefusal(ipArgs) });
}

const recorded = {
  kernel: readFileSync("/proc/sys/kernel/osrelease", "utf8").trim(),
  iproute2: ip("-V").trim(),
  by: "scripts/record-netlink-fixtures.mjs",
};

const dumpLinks = () => exchange(RTM_GETLINK, NLM_F_DUMP, { fixed: ifinfomsg(0), attributes: withoutStats });
const links = await snapshot(dumpLinks, () => ipJson("-d", "link"));
const veth0 = indexOf("veth0");
const get = await exchange(RTM_GETLINK, NLM_F_ACK, { fixed: ifinfomsg(veth0), attributes: withoutStats });
const noLink = await exchange(RTM_GETLINK, NLM_F_ACK, { fixed: ifinfomsg(9999), attributes: withoutStats });
const addresses = await snapshot(
  () => exchange(RTM_GETADDR, NLM_F_DUMP, { fixed: ifaddrmsg(0, 0, 0, 0, 0) }),
  () => ipJson("addr"),
);
const routes = await snapshot(
  () => exchange(RTM_GETROUTE, NLM_F_DUMP, mainTableDump()),
  () => ({
    inet: ipJson("route", "show", "table", "main"),
    inet6: ipJson("-6", "route", "show", "table", "main"),
  }),
);
const neighbours = await snapshot(
  () => exchange(RTM_GETNEIGH, NLM_F_DUMP, { fixed: ndmsg(0, 0) }),
  () => ipJson("neigh"),
);
socket.close();

const written = [];
const write = (name, value) => {
  const file = new URL(name, TESTDATA);
  writeFileSync(file, `${JSON.stringify({ recorded, ...value }, null, 2)}\n`);
  written.push(fileURLToPath(file));
};
write("links.json", {
  dump: links,
  get: { veth0: { index: veth0, ...get }, missing: { index: 9999, ...noLink } },
});
write("addresses.json", { dump: addresses });
write("routes.json", { dump: routes });
write("neighbours.json", { dump: neighbours });
write("changes.json", { accepted, refused });
// In the repository's JSON style, so that lint passes on the files as written.
const biome = fileURLToPath(new URL("../node_modules/.bin/biome", import.meta.url));
execFileSync(biome, ["format", "--write", ...written], { stdio: "inherit" });
console.log(`recorded into ${fileURLToPath(TESTDATA)}`);
