/**
 * Run in a network namespace of its own (`unshare --net node netlink-probe.js`): listens on a uevent socket
 * and on a route socket joined to RTMGRP_LINK, creates a veth pair, and prints what each socket heard as
 * one JSON line. The veth pair goes with the namespace.
 */
import { execFileSync } from "node:child_process";
import { decodeLink, RTM_NEWLINK, RTMGRP_LINK } from "../../src/network/netlink/link-message.js";
import { splitMessages } from "../../src/network/netlink/netlink-message.js";
import { NETLINK_KOBJECT_UEVENT, NETLINK_ROUTE, NetlinkSocket } from "../../src/sys/netlink-socket.js";

const uevents = NetlinkSocket.open(NETLINK_KOBJECT_UEVENT, { groups: 1 });
const links = NetlinkSocket.open(NETLINK_ROUTE, { groups: RTMGRP_LINK });
const heard = { uevents: [] as { text: string; port: number }[], links: [] as string[] };
uevents.listen(() =>
  uevents.drain((datagram, port) => heard.uevents.push({ text: datagram.toString("latin1"), port })),
);
links.listen(() =>
  links.drain((datagram) => {
    for (const m of splitMessages(datagram))
      if (m.type === RTM_NEWLINK) heard.links.push(decodeLink(m.payload).name);
  }),
);
execFileSync("ip", ["link", "add", "probe0", "type", "veth", "peer", "name", "probe1"]);
setTimeout(() => {
  uevents.close();
  links.close();
  process.stdout.write(`${JSON.stringify(heard)}\n`);
}, 300);
