import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { UsageError } from "./ctl-error.js";
import { findRpc, rpcNames, rpcPath } from "./rpc-catalog.js";

describe("the RPC catalog", () => {
  it("lists Health's 2 and AgentService's 43 RPCs (Kata 4.x's 42 and 1.x's ListProcesses) by unique name", () => {
    const names = rpcNames();
    assert.equal(names.length, 45);
    assert.equal(new Set(names).size, 45);
    assert.ok(names.includes("Check") && names.includes("CreateContainer"));
  });

  it("finds an RPC by name in any case, by Service/Method and by its gRPC path", () => {
    for (const name of [
      "CreateSandbox",
      "createsandbox",
      "AgentService/CreateSandbox",
      "/grpc.AgentService/CreateSandbox",
    ]) {
      assert.equal(rpcPath(findRpc(name)), "/grpc.AgentService/CreateSandbox", name);
    }
    assert.equal(rpcPath(findRpc("Health/Version")), "/grpc.Health/Version");
  });

  it("refuses unknown names and a method under the wrong service", () => {
    for (const name of ["Nope", "Health/CreateSandbox", ""]) {
      assert.throws(() => findRpc(name), UsageError, name);
    }
  });
});
