import assert from "node:assert/strict";
import { once } from "node:events";
import { connect } from "node:net";
import { describe, it } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { ReadStreamRequestSchema, ReadStreamResponseSchema } from "../../src/protocol/gen/agent_pb.js";
import { connectTtrpc } from "../../src/protocol/ttrpc/client.js";
import { encodeFrame, MessageType } from "../../src/protocol/ttrpc/frame.js";
import { encodeRequest } from "../../src/protocol/ttrpc/messages.js";
import { sandboxFixture } from "../support/container-fixture.js";
import { inContainer, sleep, T } from "../support/process-helpers.js";

const CALLS = 4000;

describe("the reply budget, shared by the server and output reads (live)", () => {
  const f = sandboxFixture("replies");

  it(`review #7: ${CALLS} ReadStdout of 1 MiB on a connection that reads nothing hold the agent to the budget, and another connection reads on once it closes`, {
    timeout: 120_000,
  }, async (t) => {
    await inContainer(
      f,
      "yes",
      async () => {
        const read = toBinary(
          ReadStreamRequestSchema,
          create(ReadStreamRequestSchema, { containerId: "yes", execId: "yes", len: 1 << 20 }),
        );
        const frames = Array.from({ length: CALLS }, (_, i) =>
          encodeFrame(
            1 + 2 * i,
            MessageType.REQUEST,
            0,
            encodeRequest({
              service: "grpc.AgentService",
              method: "ReadStdout",
              payload: read,
              timeoutNano: 0n,
              metadata: [],
            }),
          ),
        );
        const rssBefore = f.agent.rssKiB();
        const stuck = connect(f.agent.socketPath);
        stuck.on("error", () => {});
        await once(stuck, "connect");
        stuck.pause();
        stuck.write(Buffer.concat(frames));
        let peak = rssBefore;
        for (let i = 0; i < 40; i++) {
          await sleep(100);
          peak = Math.max(peak, f.agent.rssKiB());
        }
        const grown = (peak - rssBefore) / 1024;
        t.diagnostic(`RSS grew by ${grown.toFixed(0)} MiB at its peak`);
        // 32 MiB of replies and the 4000 calls' own state, where 4000 such reads used to add 390 MiB.
        assert.ok(grown < 128, `RSS grew by ${grown.toFixed(0)} MiB`);

        stuck.destroy();
        await once(stuck, "close");
        const client = await connectTtrpc(f.agent.socketPath);
        try {
          const reply = await client.call("grpc.AgentService", "ReadStdout", read, { timeoutMs: T });
          assert.ok(fromBinary(ReadStreamResponseSchema, reply).data.length > 0);
        } finally {
          client.close();
        }
      },
      ["yes"],
    );
  });
});
