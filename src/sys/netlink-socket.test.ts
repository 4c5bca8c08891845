import assert from "node:assert/strict";
import { closeSync, readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { native } from "./native.js";
import { NETLINK_ROUTE, NetlinkSocket } from "./netlink-socket.js";

const RTM_GETLINK = 18;
const NLMSG_DONE = 3;

/** An RTM_GETLINK dump request: nlmsghdr + an empty ifinfomsg. */
function linkDump(seq: number): Buffer {
  const out = Buffer.alloc(32);
  out.writeUInt32LE(32, 0);
  out.writeUInt16LE(RTM_GETLINK, 4);
  out.writeUInt16LE(0x1 | 0x300, 6);
  out.writeUInt32LE(seq, 8);
  return out;
}

const fdFlags = (fd: number) =>
  Number.parseInt(/flags:\s+(\d+)/.exec(readFileSync(`/proc/self/fdinfo/${fd}`, "utf8"))?.[1] ?? "", 8);

describe("netlink through the native addon", () => {
  it("netlinkOpen gives a non-blocking, close-on-exec socket; send and receive carry whole datagrams", () => {
    const fd = native().netlinkOpen(NETLINK_ROUTE, 0, 0);
    try {
      const O_NONBLOCK = 0o4000;
      const O_CLOEXEC = 0o2000000;
      assert.equal(fdFlags(fd) & (O_NONBLOCK | O_CLOEXEC), O_NONBLOCK | O_CLOEXEC);
      const buffer = Buffer.alloc(64 << 10);
      assert.equal(native().netlinkReceive(fd, buffer), null, "nothing waits before a request");
      assert.equal(native().netlinkSend(fd, linkDump(7)), true);
      let done = false;
      for (
        let received = native().netlinkReceive(fd, buffer);
        received;
        received = native().netlinkReceive(fd, buffer)
      ) {
        const [length, port] = received;
        assert.equal(port, 0, "the kernel's port");
        assert.equal(buffer.readUInt32LE(8), 7, "the answer carries the request's sequence number");
        assert.ok(length >= 16);
        if (buffer.readUInt16LE(4) === NLMSG_DONE) done = true;
      }
      assert.ok(done, "the dump ends with NLMSG_DONE");
    } finally {
      closeSync(fd);
    }
  });

  it("reports a datagram larger than the buffer with its full length", () => {
    const fd = native().netlinkOpen(NETLINK_ROUTE, 0, 0);
    try {
      native().netlinkSend(fd, linkDump(8));
      const received = native().netlinkReceive(fd, Buffer.alloc(16));
      assert.ok(received && received[0] > 16, "MSG_TRUNC: the length the datagram had");
    } finally {
      closeSync(fd);
    }
  });

  it("refuses wrong arguments with a TypeError naming the call", () => {
    assert.throws(() => native().netlinkOpen("0" as unknown as number, 0, 0), /netlinkOpen\(protocol/);
    assert.throws(() => native().netlinkSend(0, "x" as unknown as Buffer), /netlinkSend\(fd/);
    assert.throws(() => native().netlinkReceive(0, {} as Buffer), /netlinkReceive\(fd/);
    assert.throws(
      () => native().netlinkOpen(9999, 0, 0),
      (e: NodeJS.ErrnoException) => e.syscall === "socket",
    );
  });
});

describe("NetlinkSocket", () => {
  it("drains every datagram waiting, and a closed socket refuses use", () => {
    const socket = NetlinkSocket.open(NETLINK_ROUTE);
    socket.send(linkDump(9));
    let datagrams = 0;
    assert.ok(socket.drain(() => datagrams++) >= 1);
    assert.equal(
      socket.drain(() => datagrams++),
      0,
      "nothing left",
    );
    socket.close();
    assert.ok(socket.closed);
    assert.throws(() => socket.send(linkDump(10)), /closed/);
    socket.close();
  });

  it("cuts nothing silently: a datagram past its buffer is DATA_LOSS", () => {
    const socket = NetlinkSocket.open(NETLINK_ROUTE, { datagramBytes: 16 });
    try {
      socket.send(linkDump(11));
      assert.throws(() => socket.drain(() => {}), /was cut at 16 bytes/);
    } finally {
      socket.close();
    }
  });
});
