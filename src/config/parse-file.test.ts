import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { AgentError, Code } from "../errors.js";
import { parseCommandLine } from "./agent-config.js";
import { OPTION_NAMES, specOf } from "./options.js";
import { settingsFromFile } from "./parse-file.js";

const values = (toml: string) =>
  Object.fromEntries([...settingsFromFile("/c.toml", toml).settings].map(([name, s]) => [name, s.value]));

function refused(toml: string, why: RegExp) {
  assert.throws(
    () => settingsFromFile("/c.toml", toml),
    (e) => e instanceof AgentError && e.code === Code.INVALID_ARGUMENT && why.test(e.message),
  );
}

describe("settingsFromFile()", () => {
  it("reads Kata's keys with TOML's types", () => {
    const toml = `
      # Kata's sample
      dev_mode = true
      server_addr = 'vsock://8:2048'
      log_level = "debug"
      hotplug_timeout = 10
      container_pipe_size = 65536
      guest_components_procs = "api-server-rest"
    `;
    assert.deepEqual(values(toml), {
      devMode: true,
      serverAddr: { kind: "vsock", cid: 8, port: 2048 },
      logLevel: "debug",
      hotplugTimeoutMs: 10_000,
      containerPipeSize: 65536,
      guestComponentsProcs: "api-server-rest",
    });
  });

  it("takes timeouts as Kata's serde Duration too", () => {
    assert.deepEqual(values("hotplug_timeout = { secs = 5, nanos = 500000000 }"), { hotplugTimeoutMs: 5500 });
    assert.deepEqual(values("[cdi_timeout]\nsecs = 7"), { cdiTimeoutMs: 7000 });
  });

  it("warns about keys it does not know, and about Kata's retired [endpoints]", () => {
    const { warnings } = settingsFromFile(
      "/c.toml",
      'bogus = 1\n[endpoints]\nallowed = ["CreateContainerRequest"]\n',
    );
    assert.deepEqual(warnings, [
      "/c.toml: bogus: unknown key (ignored)",
      "/c.toml: endpoints: Kata replaced the [endpoints] allow-list by agent policy (ignored)",
    ]);
  });

  it("refuses a value of the wrong type, naming the file and the key", () => {
    refused(
      'hotplug_timeout = "3"',
      /^\/c\.toml: hotplug_timeout: expected seconds \(a whole number.*\), got "3"$/,
    );
    refused("hotplug_timeout = 1.5", /^\/c\.toml: hotplug_timeout: expected seconds/);
    refused("hotplug_timeout = { secs = 1, minutes = 2 }", /^\/c\.toml: hotplug_timeout: expected seconds/);
    refused("dev_mode = 1", /^\/c\.toml: dev_mode: expected true or false \(a TOML boolean\), got 1$/);
    refused(
      "server_addr = 1024",
      /^\/c\.toml: server_addr: expected an address .*\(a TOML string\), got 1024$/,
    );
    refused(
      "container_pipe_size = -1",
      /^\/c\.toml: container_pipe_size: expected bytes \(0 to 2147483647\)/,
    );
    refused('log_level = ["debug"]', /^\/c\.toml: log_level: expected a log level .*, got \["debug"\]$/);
    refused("run_dir = 1979-05-27", /^\/c\.toml: run_dir: expected an absolute path .*, got 1979-05-27$/);
  });

  it("refuses invalid TOML with where it went wrong", () => {
    refused(
      "server_addr = \nlog_level = 1",
      /^\/c\.toml: invalid TOML at line 1, column \d+: invalid value$/,
    );
    refused("a = 1\na = 2", /^\/c\.toml: invalid TOML at line 2/);
  });

  it("refuses a file too large to be a config file", () => {
    refused(`# ${"x".repeat(1024 * 1024)}`, /^\/c\.toml: longer than 1048576 characters$/);
  });
});

describe("the config file named on the command line", () => {
  it("is an error when it cannot be read, naming the flag and the file", () => {
    const readFile = (path: string) => {
      throw Object.assign(new Error(`ENOENT: no such file or directory, open '${path}'`), { code: "ENOENT" });
    };
    for (const [sources, from] of [
      [{ argv: ["--config", "/nope.toml"], cmdline: "" }, "--config"],
      [{ argv: [], cmdline: "agent.config_file=/nope.toml" }, "agent.config_file"],
    ] as const) {
      assert.throws(
        () => parseCommandLine({ env: {}, readFile, ...sources }),
        (e) =>
          e instanceof AgentError &&
          e.message ===
            `${from}: cannot read config file /nope.toml: ENOENT: no such file or directory, open '/nope.toml'`,
      );
    }
  });
});

describe("samples/berth-agent.toml", () => {
  const sample = readFileSync(new URL("../../../samples/berth-agent.toml", import.meta.url), "utf8");

  it("has every key of the config file", () => {
    for (const name of OPTION_NAMES) {
      const key = specOf(name).file;
      if (key) assert.match(sample, new RegExp(`^(# )?${key} = `, "m"), key);
    }
  });

  it("parses without warnings, to the defaults", () => {
    const withSample = parseCommandLine({
      argv: ["-c", "/s.toml"],
      env: {},
      cmdline: "",
      readFile: () => sample,
    });
    const withNone = parseCommandLine({ argv: [], env: {}, cmdline: "" });
    assert.ok(withSample.action === "run" && withNone.action === "run");
    assert.deepEqual(withSample.warnings, []);
    assert.deepEqual({ ...withSample.config, configFile: undefined }, withNone.config);
  });
});
