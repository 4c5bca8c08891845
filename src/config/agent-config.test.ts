import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AgentError, Code } from "../errors.js";
import { agentOptionsFromCmdline, type ConfigSources, parseCommandLine } from "./agent-config.js";
import { DEFAULT_PATHS } from "./agent-paths.js";

const none: ConfigSources = { argv: [], env: {}, cmdline: "" };

function config(sources: Partial<ConfigSources>) {
  const parsed = parseCommandLine({ ...none, ...sources });
  assert.equal(parsed.action, "run");
  return parsed.action === "run" ? parsed.config : assert.fail();
}

describe("parseCommandLine()", () => {
  it("defaults to Kata's vsock address, info logs and protocol detection", () => {
    assert.deepEqual(config({}), {
      serverAddr: { kind: "vsock", cid: 0xffff_ffff, port: 1024 },
      logLevel: "info",
      protocol: undefined,
      paths: DEFAULT_PATHS,
      runc: "runc",
    });
  });

  it("takes flags over environment over kernel command line", () => {
    const cmdline = "console=ttyS0 agent.server_addr=vsock://-1:2000 agent.log=debug";
    assert.deepEqual(config({ cmdline }).serverAddr, { kind: "vsock", cid: 0xffff_ffff, port: 2000 });
    assert.equal(config({ cmdline }).logLevel, "debug");
    const env = { KATA_AGENT_SERVER_ADDR: "unix://@env", KATA_AGENT_LOG_LEVEL: "warning" };
    assert.deepEqual(config({ cmdline, env }).serverAddr, { kind: "abstract", name: "env" });
    assert.equal(config({ cmdline, env }).logLevel, "warn");
    const argv = ["--server-addr", "unix:///tmp/a.sock", "--log-level", "trace", "--protocol", "ttrpc"];
    assert.deepEqual(config({ cmdline, env, argv }), {
      serverAddr: { kind: "unix", path: "/tmp/a.sock" },
      logLevel: "trace",
      protocol: "ttrpc",
      paths: DEFAULT_PATHS,
      runc: "runc",
    });
  });

  it("takes every on-disk root from flags, and refuses relative or escaping ones", () => {
    const argv = ["--run-dir", "/t/run/", "--sandbox-ns-dir", "/t/ns", "--resolv-conf", "/t/resolv.conf"];
    assert.deepEqual(config({ argv: [...argv, "--runc-root", "/t/runc", "--runc", "/opt/runc"] }).paths, {
      runDir: "/t/run",
      sandboxNsDir: "/t/ns",
      resolvConf: "/t/resolv.conf",
      runcRoot: "/t/runc",
    });
    for (const bad of ["run", "/t/../etc"]) {
      assert.throws(
        () => config({ argv: ["--run-dir", bad] }),
        (e: AgentError) => e.code === Code.INVALID_ARGUMENT && e.message.includes("--run-dir"),
      );
    }
  });

  it("maps logrus level names as Kata does", () => {
    assert.equal(config({ cmdline: "agent.log=panic" }).logLevel, "fatal");
    assert.equal(config({ cmdline: "agent.log=critical" }).logLevel, "fatal");
  });

  it("answers --help and --version", () => {
    assert.deepEqual(parseCommandLine({ ...none, argv: ["--help"] }), { action: "help" });
    assert.deepEqual(parseCommandLine({ ...none, argv: ["-V"] }), { action: "version" });
  });

  for (const [sources, why] of [
    [{ argv: ["--bogus"] }, /Unknown option '--bogus'/],
    [{ argv: ["--protocol", "http"] }, /--protocol: expected auto, ttrpc or grpc/],
    [{ env: { KATA_AGENT_LOG_LEVEL: "loud" } }, /KATA_AGENT_LOG_LEVEL: unknown log level "loud"/],
    [{ cmdline: "agent.server_addr=tcp://x:1" }, /agent.server_addr: invalid listen address/],
  ] as const) {
    it(`refuses ${JSON.stringify(sources)} with a message naming the source`, () => {
      assert.throws(
        () => parseCommandLine({ ...none, ...sources }),
        (e) => e instanceof AgentError && e.code === Code.INVALID_ARGUMENT && why.test(e.message),
      );
    });
  }
});

describe("agentOptionsFromCmdline()", () => {
  it("keeps agent.* options only, flags without values as empty, the last one winning", () => {
    const options = agentOptionsFromCmdline(
      " quiet agent.debug_console agent.log=info agent.log=debug root=/dev/vda\n",
    );
    assert.deepEqual(
      [...options],
      [
        ["agent.debug_console", ""],
        ["agent.log", "debug"],
      ],
    );
  });
});
