/**
 * The floor of bench:hotplug: a bare uevent listener, run in the guest as a container of its own. It
 * records `<CLOCK_MONOTONIC µs> <DEVPATH>` for every block device the kernel adds, taking the time as soon
 * as the datagram is read, and writes the records to the file named by its argument a moment later (not
 * while berth may be waking for the same event: the guest's vCPUs are few).
 */
import { appendFile, writeFile } from "node:fs/promises";
import { parseUevent } from "../src/device/uevent.js";
import { NETLINK_KOBJECT_UEVENT, NetlinkSocket } from "../src/sys/netlink-socket.js";

const out = process.argv[2] ?? "/out/floor";
let pending = "";
const socket = NetlinkSocket.open(NETLINK_KOBJECT_UEVENT, { groups: 1, receiveBytes: 4 << 20 });
socket.listen(() =>
  socket.drain((datagram) => {
    const at = process.hrtime.bigint() / 1000n;
    const event = parseUevent(datagram);
    if (event?.action === "add" && event.subsystem === "block") pending += `${at} ${event.devpath}\n`;
  }),
);
setInterval(() => {
  if (pending === "") return;
  const lines = pending;
  pending = "";
  void appendFile(out, lines);
}, 1000);
await writeFile(`${out}.ready`, "");
