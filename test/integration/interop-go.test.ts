import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { connectTtrpc } from "../../src/protocol/ttrpc/client.js";
import { Code } from "../../src/protocol/ttrpc/code.js";
import { TtrpcError } from "../../src/protocol/ttrpc/status.js";
import { AGENT_VERSION } from "../../src/version.js";
import { type AgentProcess, startAgent } from "../support/agent-process.js";
import { buildGoPeers, type GoPeers } from "../support/interop-peers.js";
import { jsonLines, runCommand } from "../support/run-command.js";

describe("interop with Go peers (containerd/ttrpc 1.1.1, grpc-go 1.33, from Debian)", () => {
  let peers: GoPeers;
  let agent: AgentProcess;
  let addr: string;

  before(async () => {
    peers = await buildGoPeers();
    agent = await startAgent();
    addr = `unix://${agent.socketPath}`;
  });

  after(async () => {
    await agent?.stop();
  });

  async function peer(...args: string[]) {
    const result = await runCommand(peers.peer, args, { timeoutMs: 30_000 });
    assert.equal(result.code, 0, `berth-peer ${args.join(" ")} failed: ${result.stdout}${result.stderr}`);
    const [line] = jsonLines(result.stdout);
    assert.ok(line);
    return line;
  }

  for (const proto of ["ttrpc", "grpc"]) {
    it(`answers Health.Check and Health.Version to a Go ${proto} client`, async () => {
      assert.deepEqual(await peer("health", "--proto", proto, "--addr", addr), {
        check: "SERVING",
        grpc_version: "0.0.1",
        agent_version: AGENT_VERSION,
      });
    });
  }

  const calls: [string, string, string, number, RegExp][] = [
    ["grpc.Health", "Nope", "", Code.UNIMPLEMENTED, /unknown method "Nope" of service "grpc.Health"/],
    ["grpc.Nope", "Check", "", Code.UNIMPLEMENTED, /unknown service "grpc.Nope"/],
    [
      "grpc.AgentService",
      "SetPolicy",
      "",
      Code.NOT_FOUND,
      /^\/grpc\.AgentService\/SetPolicy is not supported$/,
    ],
    [
      "grpc.AgentService",
      "CreateContainer",
      "",
      Code.FAILED_PRECONDITION,
      /no sandbox: call CreateSandbox first/,
    ],
    [
      "grpc.AgentService",
      "CreateContainer",
      "0aff",
      Code.INVALID_ARGUMENT,
      /cannot decode grpc.CreateContainerRequest/,
    ],
  ];
  for (const [service, method, payload, code, message] of calls) {
    it(`answers ${service}/${method}${payload ? ` with payload ${payload}` : ""} with code ${code} through containerd/ttrpc`, async () => {
      const out = await peer(
        "call",
        "--addr",
        addr,
        "--service",
        service,
        "--method",
        method,
        "--payload-hex",
        payload,
      );
      assert.equal(out.code, code);
      assert.match(String(out.message), message);
    });
  }

  it("passes a Go client's metadata and deadline through without error", async () => {
    const out = await peer(
      "call",
      ...["--addr", addr, "--service", "grpc.Health", "--method", "Check", "--timeout", "2s"],
      ...["--metadata", "Foo=bar", "--metadata", "foo=baz"],
    );
    assert.deepEqual(out, { code: 0, message: "", payload_hex: "0801" });
  });

  describe("berth's ttrpc client against the Go ttrpc server", () => {
    let dir: string;
    let server: ChildProcess;
    let socket: string;

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), "berth-baseline-"));
      socket = join(dir, "go.sock");
      server = spawn(peers.baseline, ["--proto", "ttrpc", "--addr", `unix://${socket}`], {
        stdio: ["ignore", "pipe", "inherit"],
      });
      await new Promise<void>((resolve, reject) => {
        server.stdout?.setEncoding("utf8").on("data", (text: string) => {
          if (text.includes("ready")) resolve();
        });
        server.once("exit", (code) => reject(new Error(`berth-baseline exited with ${code}`)));
      });
    });

    after(() => {
      server.kill("SIGTERM");
      rmSync(dir, { recursive: true, force: true });
    });

    it("calls Check and gets SERVING, and reads the Go server's UNIMPLEMENTED", async () => {
      const client = await connectTtrpc(socket);
      try {
        assert.deepEqual(
          [...(await client.call("grpc.Health", "Check", new Uint8Array(0), { timeoutMs: 5000 }))],
          [8, 1],
        );
        await assert.rejects(
          client.call("grpc.Health", "Nope", new Uint8Array(0)),
          (e) => e instanceof TtrpcError && e.code === Code.UNIMPLEMENTED && e.message === "method Nope",
        );
        const many = await Promise.all(
          Array.from({ length: 200 }, () => client.call("grpc.Health", "Check", new Uint8Array(0))),
        );
        assert.equal(many.length, 200);
      } finally {
        client.close();
      }
    });
  });
});
