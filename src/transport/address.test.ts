import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AgentError, Code } from "../errors.js";
import { DEFAULT_ADDRESS, formatListenAddress, parseListenAddress } from "./address.js";

describe("parseListenAddress()", () => {
  it("reads Kata's default vsock address with any CID", () => {
    assert.deepEqual(parseListenAddress(DEFAULT_ADDRESS), { kind: "vsock", cid: 0xffff_ffff, port: 1024 });
  });

  it("reads vsock, unix path and abstract unix addresses", () => {
    assert.deepEqual(parseListenAddress("vsock://3:5000"), { kind: "vsock", cid: 3, port: 5000 });
    assert.deepEqual(parseListenAddress("unix:///run/berth/agent.sock"), {
      kind: "unix",
      path: "/run/berth/agent.sock",
    });
    assert.deepEqual(parseListenAddress("unix://@/tmp/kata-agent.socket"), {
      kind: "abstract",
      name: "/tmp/kata-agent.socket",
    });
  });

  it("reads a virtio-serial port by its name", () => {
    assert.deepEqual(parseListenAddress("serial://agent.channel.0"), {
      kind: "serial",
      name: "agent.channel.0",
    });
  });

  it("formats what it parses back to the same text", () => {
    for (const text of [
      "vsock://-1:1024",
      "vsock://2:1",
      "unix:///a/b.sock",
      "unix://@x",
      "serial://a.b-0",
    ]) {
      assert.equal(formatListenAddress(parseListenAddress(text)), text);
    }
  });

  for (const [text, why] of [
    ["tcp://1.2.3.4:5", /unknown scheme "tcp"/],
    ["unix://relative.sock", /must be absolute/],
    ["unix://@", /name is empty/],
    [`unix:///${"x".repeat(120)}`, /longer than 107 bytes/],
    ["unix:///a\0b", /NUL byte/],
    ["vsock://-2:1024", /expected vsock:\/\/CID:PORT/],
    ["vsock://3:4294967296", /the port must be/],
    ["vsock://3", /expected vsock:\/\/CID:PORT/],
    ["/just/a/path", /expected unix:\/\/PATH/],
    ["serial://", /a serial port name is/],
    ["serial:///dev/vport0p1", /a serial port name is/],
  ] as const) {
    it(`refuses ${JSON.stringify(text)}`, () => {
      assert.throws(
        () => parseListenAddress(text),
        (e) => e instanceof AgentError && e.code === Code.INVALID_ARGUMENT && why.test(e.message),
      );
    });
  }
});
