import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import { echo, Line, pair, readAll, turn, until } from "./pair.test-util.js";
import { MuxSession } from "./session.js";
import { encodeHeader, encodeRecord, FrameType, SyncKind } from "./wire.js";

describe("MuxSession", () => {
  it("carries a stream both ways, byte for byte, across lines that cut the bytes anywhere", async () => {
    const p = pair(7, { onStream: echo });
    const stream = p.host.openStream();
    const sent = randomBytes(1 << 20);
    const back = readAll(stream, sent.length);
    stream.write(sent);
    assert.ok((await back).equals(sent));
    assert.ok(p.host.synced && p.guest.synced);
    stream.destroy();
    await until(() => p.guest.streamCount === 0, "the guest's stream to close");
  });

  it("carries the bytes a writer had when its write was done, though it reuses the buffer at once", async () => {
    const p = pair(11, { onStream: echo });
    const stream = p.host.openStream();
    const sent = randomBytes(100_000);
    const buffer = Buffer.from(sent);
    const back = readAll(stream, sent.length);
    await new Promise<void>((resolve) => stream.write(buffer, () => resolve()));
    buffer.fill(0);
    assert.ok((await back).equals(sent));
    stream.destroy();
  });

  it("keeps each of many streams' bytes to itself", async () => {
    const p = pair(11, { onStream: echo });
    const streams = Array.from({ length: 20 }, () => p.host.openStream());
    const payloads = streams.map(() => randomBytes(50_000));
    const replies = streams.map((s, i) => readAll(s, (payloads[i] as Buffer).length));
    streams.forEach((s, i) => {
      s.write(payloads[i]);
    });
    const got = await Promise.all(replies);
    got.forEach((g, i) => {
      assert.ok(g.equals(payloads[i] as Buffer), `stream ${i}`);
    });
    assert.equal(p.accepted.length, 20);
  });

  it("holds a writer back at the window while the reader does not read, then lets it go on", async () => {
    const window = 64 << 10;
    const p = pair(3, { window });
    const stream = p.host.openStream();
    let finished = false;
    stream.write(randomBytes(1 << 20), () => {
      finished = true;
    });
    await until(() => p.accepted.length === 1, "the guest to accept");
    const guestSide = p.accepted[0];
    assert.ok(guestSide);
    guestSide.pause();
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(finished, false);
    assert.ok(guestSide.readableLength <= window, `buffered ${guestSide.readableLength}`);
    assert.equal(p.toGuest.queued, 0);
    let received = 0;
    guestSide.on("data", (chunk: Buffer) => {
      received += chunk.length;
    });
    guestSide.resume();
    await until(() => finished && received === 1 << 20, "the rest to flow");
  });

  it("closes the other side when either side closes, and drops what arrives for a closed stream", async () => {
    const p = pair(5, { onStream: echo });
    const first = p.host.openStream();
    first.write("hello");
    await readAll(first, 5);
    const guestFirst = p.accepted[0];
    assert.ok(guestFirst);
    const closed = new Promise((resolve) => guestFirst.once("close", resolve));
    first.destroy();
    await closed;
    p.toGuest.write([encodeHeader(FrameType.DATA, 1, 3), Buffer.from("old")]);
    const second = p.host.openStream();
    second.write("fresh");
    assert.equal((await readAll(second, 5)).toString(), "fresh");
    assert.equal(second.id, 2);
    const hostClosed = new Promise((resolve) => second.once("close", resolve));
    p.accepted[1]?.end();
    await hostClosed;
    assert.equal(p.host.streamCount, 0);
  });

  it("opens streams made before the guest answered once it does", async () => {
    const toGuest = new Line(1);
    const toHost = new Line(2);
    const accepted: unknown[] = [];
    const host = new MuxSession({ role: "host", link: toGuest });
    const guest = new MuxSession({
      role: "guest",
      link: toHost,
      onStream: (s) => {
        accepted.push(s);
        echo(s);
      },
    });
    toGuest.deliverTo((c) => guest.receive(c));
    toHost.deliverTo((c) => host.receive(c));
    // The host connects first: its SYNC reaches a guest whose port is not yet open, and is lost.
    toGuest.connected = false;
    host.linkUp();
    const early = host.openStream();
    early.write("early");
    await turn();
    toGuest.connected = true;
    guest.linkUp();
    assert.equal((await readAll(early, 5)).toString(), "early");
    assert.equal(accepted.length, 1);
  });

  it("skips stale bytes an earlier host left in the guest's output, and a frame it was cut off in", async () => {
    const p = pair(9, { onStream: echo });
    const old = p.host.openStream();
    old.write("first");
    await readAll(old, 5);
    // The host goes away without the guest seeing it: the guest's reply to a request of the old host,
    // and half a frame of that host, are still on the line when a new host connects.
    p.toHost.write([encodeHeader(FrameType.DATA, 1, 5), Buffer.from("stale")]);
    p.toGuest.write([encodeHeader(FrameType.DATA, 1, 100), Buffer.from("cut")]);
    p.host.close();
    const host2 = new MuxSession({ role: "host", link: p.toGuest });
    p.toHost.deliverTo((c) => host2.receive(c));
    host2.linkUp();
    const fresh = host2.openStream();
    const got: Buffer[] = [];
    fresh.on("data", (c: Buffer) => got.push(c));
    fresh.write("again");
    await until(() => Buffer.concat(got).length >= 5, "the new stream's echo");
    await turn();
    assert.equal(Buffer.concat(got).toString(), "again");
    assert.equal(fresh.id, 1);
    assert.equal(p.guest.streamCount, 1, "the old host's stream is gone from the guest");
  });

  it("starts over when the guest goes away and comes back, dropping the streams of the session", async () => {
    const p = pair(13, { onStream: echo });
    const before = p.host.openStream();
    before.write("x");
    await readAll(before, 1);
    const gone = new Promise((resolve) => before.once("close", resolve));
    p.guest.linkDown();
    p.guest.linkUp();
    await gone;
    const after = p.host.openStream();
    after.write("y");
    assert.equal((await readAll(after, 1)).toString(), "y");
  });

  it("starts over after garbage, either way, and never throws on it", async () => {
    const p = pair(17, { onStream: echo });
    for (let round = 0; round < 20; round++) {
      const junk = randomBytes(1 + ((round * 977) % 5000));
      if (round % 2) p.toGuest.write([junk]);
      else p.toHost.write([junk]);
      const s = p.host.openStream();
      const payload = randomBytes(100);
      const back = readAll(s, 100).catch(() => undefined);
      s.write(payload);
      await Promise.race([back, new Promise((resolve) => setTimeout(resolve, 20))]);
      s.destroy();
    }
    await until(() => p.host.synced && p.guest.synced, "a session after the garbage");
    const last = p.host.openStream();
    last.write("ok");
    assert.equal((await readAll(last, 2)).toString(), "ok");
  });

  it("refuses a stream past the guest's limit by closing it", async () => {
    const p = pair(19, { onStream: echo, maxStreams: 2 });
    const streams = [p.host.openStream(), p.host.openStream(), p.host.openStream()];
    const third = streams[2];
    assert.ok(third);
    third.resume();
    await new Promise((resolve) => third.once("close", resolve));
    assert.equal(p.accepted.length, 2);
    streams[0]?.write("a");
    assert.equal((await readAll(streams[0] as never, 1)).toString(), "a");
  });

  it("closes a stream whose peer sends past the credit it was given", async () => {
    const p = pair(23, { window: 1024 });
    const s = p.host.openStream();
    s.write("hi");
    await until(() => p.accepted.length === 1, "the guest to accept");
    const guestSide = p.accepted[0];
    assert.ok(guestSide);
    guestSide.pause();
    const closed = new Promise((resolve) => guestSide.once("close", resolve));
    // What the reader has not taken (past its 16 KiB buffer) and was never credited: past the window.
    p.toGuest.write([encodeHeader(FrameType.DATA, s.id, 20_000), randomBytes(20_000)]);
    await closed;
    assert.ok(p.guest.synced, "the session goes on");
  });

  it("ignores records a side has no use for, and ACKs with a nonce it did not send", async () => {
    const p = pair(29, { onStream: echo });
    const s = p.host.openStream();
    s.write("1");
    await readAll(s, 1);
    p.toHost.write([encodeRecord(SyncKind.ACK, randomBytes(16))]);
    p.toGuest.write([encodeRecord(SyncKind.REQUEST, randomBytes(16))]);
    s.write("2");
    assert.equal((await readAll(s, 1)).toString(), "2");
    assert.ok(p.host.synced);
  });
});
