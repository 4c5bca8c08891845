import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AgentError, Code } from "../errors.js";
import {
  type AgentConfig,
  type ConfigSources,
  describeConfig,
  parseCommandLine,
  USAGE,
} from "./agent-config.js";
import { DEFAULT_PATHS } from "./agent-paths.js";
import { KATA_ONLY_NAMES, OPTION_NAMES, type OptionName, specOf } from "./options.js";

const none: ConfigSources = {
  argv: [],
  env: {},
  cmdline: "",
  readFile: () => assert.fail("no file expected"),
};

function run(sources: Partial<ConfigSources>) {
  const parsed = parseCommandLine({ ...none, ...sources });
  assert.equal(parsed.action, "run");
  return parsed.action === "run" ? parsed : assert.fail();
}
const config = (sources: Partial<ConfigSources>) => run(sources).config;
const files = (byPath: Record<string, string>) => (path: string) => {
  const contents = byPath[path];
  if (contents === undefined) throw new Error(`ENOENT: no such file or directory, open '${path}'`);
  return contents;
};

/** Every option's values, flat, as the table names them. */
function flat(c: AgentConfig): Record<string, unknown> {
  const { paths, unsupported, protocol, ...berth } = c;
  return { ...berth, ...paths, ...unsupported, protocol: protocol ?? "auto" };
}

function refused(sources: Partial<ConfigSources>, why: RegExp) {
  assert.throws(
    () => parseCommandLine({ ...none, ...sources }),
    (e) => e instanceof AgentError && e.code === Code.INVALID_ARGUMENT && why.test(e.message),
  );
}

/** A valid non-default value of every option, as text, and what it becomes. */
const SAMPLES: Record<Exclude<OptionName, "configFile">, [string, unknown]> = {
  serverAddr: ["unix:///run/a.sock", { kind: "unix", path: "/run/a.sock" }],
  logLevel: ["debug", "debug"],
  hotplugTimeoutMs: ["7", 7000],
  containerPipeSize: ["1048576", 1048576],
  rpcRequestBudget: ["67108864", 67108864],
  rpcReplyBudget: ["16777216", 16777216],
  unifiedCgroupHierarchy: ["true", true],
  cgroupNoV1: ["all", "all"],
  protocol: ["ttrpc", "ttrpc"],
  shutdownAction: ["exit", "exit"],
  runDir: ["/t/run", "/t/run"],
  sandboxNsDir: ["/t/ns", "/t/ns"],
  resolvConf: ["/t/resolv.conf", "/t/resolv.conf"],
  runcRoot: ["/t/runc", "/t/runc"],
  runc: ["/opt/bin/runc", "/opt/bin/runc"],
  debugConsole: ["true", true],
  debugConsoleVport: ["1026", 1026],
  logVport: ["1025", 1025],
  devMode: ["true", true],
  tracing: ["true", true],
  passfdListenerPort: ["1027", 1027],
  cdhApiTimeoutMs: ["60", 60_000],
  cdiTimeoutMs: ["120", 120_000],
  imagePullTimeoutMs: ["600", 600_000],
  launchProcessTimeoutMs: ["15", 15_000],
  visibleCdiDevices: ["true", true],
  httpsProxy: ["http://proxy.example:81/", "http://proxy.example:81/"],
  noProxy: ["*.internal,10.0.0.0/8", "*.internal,10.0.0.0/8"],
  guestComponentsRestApi: ["all", "all"],
  guestComponentsProcs: ["none", "none"],
  secureStorageIntegrity: ["true", true],
  imageRegistryAuth: ["file:///root/.docker/config.json", "file:///root/.docker/config.json"],
  enableSignatureVerification: ["true", true],
  imagePolicyFile: ["file:///etc/image-policy.json", "file:///etc/image-policy.json"],
  policyFile: ["/etc/policy.rego", "/etc/policy.rego"],
  useVsock: ["true", true],
  memAgentEnable: ["true", true],
  memAgentMemcgDisable: ["true", true],
  memAgentMemcgSwap: ["true", true],
  memAgentMemcgSwappinessMax: ["50", 50],
  memAgentMemcgPeriodSecs: ["300", 300],
  memAgentMemcgPeriodPsiPercentLimit: ["1", 1],
  memAgentMemcgEvictionPsiPercentLimit: ["2", 2],
  memAgentMemcgEvictionRunAgingCountMin: ["3", 3],
  memAgentCompactDisable: ["true", true],
  memAgentCompactPeriodSecs: ["600", 600],
  memAgentCompactPeriodPsiPercentLimit: ["4", 4],
  memAgentCompactPsiPercentLimit: ["5", 5],
  memAgentCompactSecMax: ["-1", -1],
  memAgentCompactOrder: ["6", 6],
  memAgentCompactThreshold: ["1024", 1024],
  memAgentCompactForceTimes: ["9", 9],
};
const SAMPLED = Object.keys(SAMPLES) as (keyof typeof SAMPLES)[];

/** The sample as a TOML value: numbers and booleans bare, the rest quoted. */
const tomlOf = (text: string) => (/^(-?\d+|true|false)$/.test(text) ? text : JSON.stringify(text));

describe("parseCommandLine()", () => {
  it("defaults to Kata's vsock address, info logs, Kata's timeouts and protocol detection", () => {
    const { config: c, warnings } = run({});
    assert.deepEqual(warnings, []);
    const { unsupported, ...acted } = c;
    assert.deepEqual(acted, {
      serverAddr: { kind: "vsock", cid: 0xffff_ffff, port: 1024 },
      logLevel: "info",
      protocol: undefined,
      hotplugTimeoutMs: 3000,
      containerPipeSize: 1048576,
      rpcRequestBudget: 16777216,
      rpcReplyBudget: 33554432,
      shutdownAction: "poweroff",
      unifiedCgroupHierarchy: false,
      cgroupNoV1: "",
      configFile: undefined,
      paths: DEFAULT_PATHS,
      runc: "runc",
    });
    assert.equal(unsupported.debugConsole, false);
    assert.equal(unsupported.cdiTimeoutMs, 100_000);
    assert.equal(unsupported.launchProcessTimeoutMs, 6000);
    assert.equal(unsupported.guestComponentsProcs, "api-server-rest");
    assert.equal(unsupported.memAgentCompactOrder, undefined);
  });

  for (const name of SAMPLED) {
    const spec = specOf(name);
    const [text, value] = SAMPLES[name];
    it(`reads ${name} from each of its sources`, () => {
      const seen: string[] = [];
      if (spec.flag) {
        assert.deepEqual(flat(config({ argv: [`--${spec.flag.name}`, text] }))[name], value);
        assert.deepEqual(flat(config({ argv: [`--${spec.flag.name}=${text}`] }))[name], value);
        seen.push("flag");
      }
      if (spec.env) {
        assert.deepEqual(flat(config({ env: { [spec.env]: text } }))[name], value);
        seen.push("env");
      }
      if (spec.file) {
        const readFile = files({ "/c.toml": `${spec.file} = ${tomlOf(text)}\n` });
        assert.deepEqual(flat(config({ argv: ["-c", "/c.toml"], readFile }))[name], value);
        seen.push("file");
      }
      for (const param of spec.cmdline ?? []) {
        assert.deepEqual(flat(config({ cmdline: `quiet ${param}=${text} ro` }))[name], value, param);
        seen.push("cmdline");
      }
      assert.ok(seen.length > 0, `${name} has no source`);
    });
  }

  it("takes flags over environment over the config file over the kernel command line over defaults", () => {
    const readFile = files({
      "/c.toml":
        'server_addr = "unix://@file"\nlog_level = "warn"\nhotplug_timeout = 4\nshutdown_action = "reboot"\n',
    });
    const cmdline =
      "agent.server_addr=unix://@kernel agent.log=error agent.hotplug_timeout=5 agent.config_file=/c.toml";
    const env = {
      KATA_AGENT_SERVER_ADDR: "unix://@env",
      KATA_AGENT_LOG_LEVEL: "debug",
      BERTH_SHUTDOWN_ACTION: "exit",
    };
    const argv = ["--server-addr", "unix://@flag", "--hotplug-timeout", "6"];

    assert.deepEqual(config({}).serverAddr, { kind: "vsock", cid: 0xffff_ffff, port: 1024 });
    const kernel = config({ cmdline: cmdline.replace(" agent.config_file=/c.toml", "") });
    assert.deepEqual(
      [kernel.serverAddr, kernel.logLevel, kernel.hotplugTimeoutMs, kernel.shutdownAction],
      [{ kind: "abstract", name: "kernel" }, "error", 5000, "poweroff"],
    );
    const file = config({ cmdline, readFile });
    assert.deepEqual(
      [file.serverAddr, file.logLevel, file.hotplugTimeoutMs, file.shutdownAction],
      [{ kind: "abstract", name: "file" }, "warn", 4000, "reboot"],
    );
    const environment = config({ cmdline, readFile, env });
    assert.deepEqual(
      [
        environment.serverAddr,
        environment.logLevel,
        environment.hotplugTimeoutMs,
        environment.shutdownAction,
      ],
      [{ kind: "abstract", name: "env" }, "debug", 4000, "exit"],
    );
    const flags = config({ cmdline, readFile, env, argv });
    assert.deepEqual(
      [flags.serverAddr, flags.logLevel, flags.hotplugTimeoutMs, flags.shutdownAction],
      [{ kind: "abstract", name: "flag" }, "debug", 6000, "exit"],
    );
  });

  it("reads the config file named by --config over the one agent.config_file names", () => {
    const readFile = files({
      "/flag.toml": "container_pipe_size = 1\n",
      "/kernel.toml": "container_pipe_size = 2\n",
    });
    const cmdline = "agent.config_file=/kernel.toml";
    assert.equal(config({ cmdline, readFile }).configFile, "/kernel.toml");
    assert.equal(config({ cmdline, readFile }).containerPipeSize, 2);
    const c = config({ cmdline, readFile, argv: ["--config", "/flag.toml"] });
    assert.deepEqual([c.configFile, c.containerPipeSize], ["/flag.toml", 1]);
  });

  it("warns about unknown agent.* options and ignores other kernel parameters", () => {
    const { warnings } = run({ cmdline: "console=hvc0 agent.foo=1 agent.bar quiet systemd.show_status=0" });
    assert.deepEqual(warnings, [
      "kernel command line: unknown option agent.foo (ignored)",
      "kernel command line: unknown option agent.bar (ignored)",
    ]);
  });

  it("warns about Kata options berth does not act on, when they are set to other than their default", () => {
    const readFile = files({ "/c.toml": "debug_console = true\ndev_mode = false\n" });
    const { warnings, config: c } = run({
      argv: ["-c", "/c.toml"],
      readFile,
      env: { KATA_AGENT_TRACING: "1", KATA_AGENT_POLICY_FILE: "/p.rego" },
      cmdline: "agent.log_vport=1025 agent.debug_console_vport=0 agent.cdi_timeout=100 agent.devmode",
    });
    assert.deepEqual(warnings.toSorted(), [
      "/c.toml: debug_console: not supported by berth yet (ignored)",
      "KATA_AGENT_POLICY_FILE: not supported by berth yet (ignored)",
      "KATA_AGENT_TRACING: not supported by berth yet (ignored)",
      "agent.log_vport: not supported by berth yet (ignored)",
    ]);
    assert.equal(c.unsupported.debugConsole, true);
    assert.equal(c.unsupported.tracing, true);
    assert.equal(c.unsupported.logVport, 1025);
    assert.equal(c.unsupported.devMode, false, "the config file's dev_mode = false is over agent.devmode");
  });

  it("warns about arguments rather than failing (as PID 1 it gets the kernel's leftovers)", () => {
    assert.deepEqual(run({ argv: ["init", "single"] }).warnings, ['arguments ["init","single"] (ignored)']);
  });

  for (const name of [...OPTION_NAMES]) {
    const spec = specOf(name);
    let freeText = false;
    try {
      spec.type.fromText("x");
      freeText = true;
    } catch {}
    if (freeText) continue;
    it(`refuses a bad ${name} from each source, naming the source`, () => {
      const why = (from: string) => new RegExp(`^${from}: (expected|invalid listen address) `);
      if (spec.flag) refused({ argv: [`--${spec.flag.name}`, "x"] }, why(`--${spec.flag.name}`));
      if (spec.env) refused({ env: { [spec.env]: "x" } }, why(spec.env));
      for (const param of spec.cmdline ?? []) refused({ cmdline: `${param}=x` }, why(param));
      if (spec.file) {
        const readFile = files({ "/c.toml": `${spec.file} = "x"\n` });
        refused({ argv: ["-c", "/c.toml"], readFile }, why(`/c.toml: ${spec.file}`));
      }
    });
  }

  for (const [sources, why] of [
    [{ cmdline: "agent.hotplug_timeout=x" }, /^agent\.hotplug_timeout: expected seconds, got "x"$/],
    [
      { cmdline: "agent.hotplug_timeout=0" },
      /^agent\.hotplug_timeout: expected seconds, at least 1, got "0"$/,
    ],
    [{ argv: ["--hotplug-timeout", "3000000"] }, /^--hotplug-timeout: expected seconds, at most 2147483/],
    [
      { cmdline: "agent.container_pipe_size=-1" },
      /^agent\.container_pipe_size: expected bytes \(0 to 2147483647\)/,
    ],
    [
      { cmdline: "agent.container_pipe_size=4294967296" },
      /expected bytes \(0 to 2147483647\), got "4294967296"/,
    ],
    [
      { argv: ["--rpc-request-budget", "1048576"] },
      /^--rpc-request-budget: expected bytes \(8388608 to 2147483647\), got "1048576"/,
    ],
    [{ cmdline: "agent.log" }, /^agent\.log: expected a log level \(.*\), got no value$/],
    [{ cmdline: "agent.server_addr=tcp://x:1" }, /^agent\.server_addr: invalid listen address "tcp:\/\/x:1"/],
    [{ cmdline: "agent.log=" }, /^agent\.log: expected a log level \(.*\), got ""$/],
    [{ env: { KATA_AGENT_LOG_LEVEL: "loud" } }, /^KATA_AGENT_LOG_LEVEL: expected a log level/],
    [{ env: { KATA_AGENT_TRACING: "maybe" } }, /^KATA_AGENT_TRACING: expected true or false, got "maybe"$/],
    [{ argv: ["--protocol", "http"] }, /^--protocol: expected one of auto, ttrpc, grpc, got "http"$/],
    [{ argv: ["--run-dir", "/t/../etc"] }, /^--run-dir: expected an absolute path without "\.\."/],
    [{ argv: ["--bogus"] }, /^Unknown option '--bogus'$/],
    [{ argv: ["--server-addr"] }, /argument missing/],
    [{ cmdline: "agent.https_proxy=not-a-url" }, /^agent\.https_proxy: expected a URL, got "not-a-url"$/],
    [
      { cmdline: "agent.guest_components_procs=all" },
      /^agent\.guest_components_procs: expected one of none, /,
    ],
    [
      { cmdline: "agent.mem_agent_compact_order=256" },
      /^agent\.mem_agent_compact_order: expected a number \(0 to 255\)/,
    ],
  ] as const) {
    it(`refuses ${JSON.stringify(sources)} with a message naming the source`, () => refused(sources, why));
  }

  it("maps logrus and slog level names as Kata does", () => {
    for (const [given, level] of [
      ["panic", "fatal"],
      ["fatal", "fatal"],
      ["critical", "fatal"],
      ["warning", "warn"],
      ["WARN", "warn"],
      ["trace", "trace"],
    ]) {
      assert.equal(config({ cmdline: `agent.log=${given}` }).logLevel, level);
    }
  });

  it("answers --help and --version before looking at anything else", () => {
    for (const flag of ["--help", "-h"]) {
      assert.deepEqual(parseCommandLine({ ...none, argv: [flag], cmdline: "agent.log=x" }), {
        action: "help",
      });
    }
    for (const flag of ["--version", "-V"]) {
      assert.deepEqual(parseCommandLine({ ...none, argv: [flag] }), { action: "version" });
    }
  });
});

describe("USAGE", () => {
  it("lists every flag with its environment variable, kernel parameter and file key", () => {
    for (const name of OPTION_NAMES) {
      const { flag, env, cmdline, file } = specOf(name);
      if (!flag) continue;
      assert.match(USAGE, new RegExp(`\\n  (-${flag.short}, |    )--${flag.name} ${flag.arg}[ \\n]`), name);
      for (const other of [env, cmdline?.[0], file])
        if (other) assert.ok(USAGE.includes(other), `${name}: ${other}`);
    }
    for (const flag of ["-c, --config FILE", "-V, --version", "-h, --help", "--shutdown-action ACTION"]) {
      assert.ok(USAGE.includes(flag), flag);
    }
  });

  it("names the Kata options berth reads but does not act on", () => {
    for (const name of KATA_ONLY_NAMES) {
      const { cmdline, env } = specOf(name);
      const shown = (cmdline?.[0] ?? env ?? name).replace(
        /^agent\.mem_agent_(?!enable).*/,
        "agent.mem_agent_*",
      );
      assert.ok(USAGE.includes(shown), name);
    }
  });

  it("fits a terminal", () => {
    for (const line of USAGE.split("\n")) assert.ok(line.length <= 110, line);
  });
});

describe("describeConfig()", () => {
  it("gives every option under Kata's name, JSON-safe", () => {
    const described = describeConfig(config({ argv: ["-c", "/c.toml"], readFile: files({ "/c.toml": "" }) }));
    assert.deepEqual(JSON.parse(JSON.stringify(described)), described);
    assert.equal(described.server_addr, "vsock://-1:1024");
    assert.equal(described.log_level, "info");
    assert.equal(described.hotplug_timeout, 3);
    assert.equal(described.cdi_timeout, 100);
    assert.equal(described.protocol, "auto");
    assert.equal(described.run_dir, DEFAULT_PATHS.runDir);
    assert.equal(described.config_file, "/c.toml");
    assert.equal(described.cgroup_no_v1, "");
    assert.equal(described.mem_agent_compact_order, undefined, "unset options are left out");
    assert.equal(described.dev_mode, false);
  });

  it("shows what the sources set", () => {
    const described = describeConfig(config({ argv: ["--server-addr", "unix://@a", "--protocol", "grpc"] }));
    assert.equal(described.server_addr, "unix://@a");
    assert.equal(described.protocol, "grpc");
  });
});
