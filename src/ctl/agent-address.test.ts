import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DEFAULT_CTL_ADDRESS, resolveAgentAddress, unreachableMessage } from "./agent-address.js";
import { UsageError } from "./ctl-error.js";

describe("resolveAgentAddress()", () => {
  const env = { BERTH_ADDR: "unix:///berth.sock", KATA_AGENT_SERVER_ADDR: "unix:///kata.sock" };

  it("takes --addr, then BERTH_ADDR, then KATA_AGENT_SERVER_ADDR, then the default", () => {
    assert.equal(resolveAgentAddress("unix://@flag", env).text, "unix://@flag");
    assert.equal(resolveAgentAddress(undefined, env).source, "BERTH_ADDR");
    assert.deepEqual(resolveAgentAddress(undefined, { KATA_AGENT_SERVER_ADDR: "unix:///k.sock" }), {
      address: { kind: "unix", path: "/k.sock" },
      text: "unix:///k.sock",
      source: "KATA_AGENT_SERVER_ADDR",
    });
    assert.deepEqual(resolveAgentAddress(undefined, {}), {
      address: { kind: "vsock", cid: 1, port: 1024 },
      text: DEFAULT_CTL_ADDRESS,
      source: "the default",
    });
  });

  it("reads the agent's listen address with any CID (-1) as this VM (CID 1)", () => {
    assert.equal(resolveAgentAddress("vsock://-1:1024", {}).text, "vsock://1:1024");
  });

  it("refuses a bad address, saying where it came from", () => {
    assert.throws(
      () => resolveAgentAddress(undefined, { BERTH_ADDR: "tcp://1.2.3.4:5" }),
      (e: unknown) =>
        e instanceof UsageError && /invalid agent address "tcp:.*\(from BERTH_ADDR\)/.test(e.message),
    );
  });

  it("says which address it tried and how to choose another when the agent is unreachable", () => {
    const message = unreachableMessage(resolveAgentAddress(undefined, {}), "ENOENT");
    assert.match(message, /^cannot reach the agent at vsock:\/\/1:1024 \(the default address\): ENOENT; /);
    assert.match(message, /--addr ADDR or set BERTH_ADDR/);
  });
});
