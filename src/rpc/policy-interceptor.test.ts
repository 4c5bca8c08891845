import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create, type Message, toBinary } from "@bufbuild/protobuf";
import { AgentError, Code } from "../errors.js";
import { type AgentPolicy, NO_POLICY } from "../policy/agent-policy.js";
import { AgentService, WaitProcessRequestSchema } from "../protocol/gen/agent_pb.js";
import type { RawCallContext } from "../protocol/raw-service.js";
import { policyInterceptor } from "./policy-interceptor.js";
import { routeService } from "./router.js";

const raw: RawCallContext = {
  signal: new AbortController().signal,
  metadata: new Map(),
  deadline: undefined,
};
const payload = toBinary(WaitProcessRequestSchema, create(WaitProcessRequestSchema, { containerId: "c1" }));

function waitProcess(policy: AgentPolicy, ran: string[]): Promise<Uint8Array> {
  const method = routeService(
    AgentService,
    {
      waitProcess: (req) => {
        ran.push(req.containerId);
        return { status: 0 };
      },
    },
    [policyInterceptor(policy)],
  ).methods.WaitProcess;
  assert.ok(method);
  return Promise.resolve(method(payload, raw));
}

describe("policyInterceptor()", () => {
  it("asks the policy with the request message's name and the decoded request, then runs the call", async () => {
    const asked: [string, Message][] = [];
    const ran: string[] = [];
    const policy: AgentPolicy = {
      ...NO_POLICY,
      check: (entrypoint, request) => void asked.push([entrypoint, request]),
    };
    await waitProcess(policy, ran);
    const [entrypoint, request] = asked[0] ?? [];
    assert.equal(entrypoint, "WaitProcessRequest");
    assert.equal((request as { containerId?: string } | undefined)?.containerId, "c1");
    assert.deepEqual(ran, ["c1"]);
  });

  it("runs nothing the policy denies, and waits for a policy that answers later", async () => {
    const ran: string[] = [];
    const deny: AgentPolicy = {
      ...NO_POLICY,
      check: () =>
        Promise.reject(new AgentError(Code.PERMISSION_DENIED, "WaitProcessRequest is blocked by policy")),
    };
    await assert.rejects(waitProcess(deny, ran), {
      code: Code.PERMISSION_DENIED,
    });
    assert.deepEqual(ran, []);
    const later: AgentPolicy = { ...NO_POLICY, check: () => new Promise((done) => setTimeout(done, 5)) };
    await waitProcess(later, ran);
    assert.deepEqual(ran, ["c1"]);
  });
});

describe("NO_POLICY", () => {
  it("allows every call at once and refuses SetPolicy as a Kata agent built without agent-policy", async () => {
    assert.equal(NO_POLICY.check("CreateContainerRequest", create(WaitProcessRequestSchema)), undefined);
    await assert.rejects(NO_POLICY.replace("package agent_policy"), {
      code: Code.NOT_FOUND,
      message: "/grpc.AgentService/SetPolicy is not supported",
    });
  });
});
