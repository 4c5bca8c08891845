import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AgentError } from "../errors.js";
import { kernelParameters, settingsFromCmdline } from "./parse-cmdline.js";

describe("kernelParameters()", () => {
  it("splits at blanks, keeps quoted blanks and drops the quotes, as the kernel does", () => {
    assert.deepEqual(kernelParameters(' quiet  agent.log=debug\tfoo="a b" "x y=z"\n'), [
      "quiet",
      "agent.log=debug",
      "foo=a b",
      "x y=z",
    ]);
  });

  it("stops at --: what follows is init's arguments", () => {
    assert.deepEqual(kernelParameters("ro -- agent.log=debug"), ["ro"]);
  });

  it("refuses an absurdly long command line", () => {
    assert.throws(() => kernelParameters("a".repeat(70_000)), AgentError);
  });
});

describe("settingsFromCmdline()", () => {
  const values = (cmdline: string) =>
    Object.fromEntries([...settingsFromCmdline(cmdline).settings].map(([name, s]) => [name, s.value]));

  it("takes bare flags as true and the last of repeated options", () => {
    assert.deepEqual(values("agent.debug_console agent.devmode agent.trace agent.log=info agent.log=debug"), {
      debugConsole: true,
      devMode: true,
      tracing: true,
      logLevel: "debug",
    });
  });

  it("takes booleans as Kata and systemd write them", () => {
    for (const [text, value] of [
      ["1", true],
      ["0", false],
      ["11", true],
      ["true", true],
      ["false", false],
      ["yes", true],
      ["off", false],
    ] as const) {
      assert.deepEqual(
        values(`systemd.unified_cgroup_hierarchy=${text}`),
        { unifiedCgroupHierarchy: value },
        text,
      );
    }
    assert.deepEqual(values("agent.trace=isolated"), { tracing: true }, "Kata 1.x's trace mode");
  });

  it("keeps everything after the first = in a value", () => {
    assert.deepEqual(values("agent.no_proxy=a=b,c"), { noProxy: "a=b,c" });
  });

  it("names where each value came from", () => {
    const { settings } = settingsFromCmdline("agent.unified_cgroup_hierarchy=1 cgroup_no_v1=all");
    assert.equal(settings.get("unifiedCgroupHierarchy")?.from, "agent.unified_cgroup_hierarchy");
    assert.equal(settings.get("cgroupNoV1")?.from, "cgroup_no_v1");
  });

  it("ignores parameters that are not the agent's, and warns about unknown agent.* ones", () => {
    const { settings, warnings } = settingsFromCmdline(
      "console=ttyS0 agentx=1 agent.debug_consolex agent.logx=2",
    );
    assert.equal(settings.size, 0);
    assert.deepEqual(warnings, [
      "kernel command line: unknown option agent.debug_consolex (ignored)",
      "kernel command line: unknown option agent.logx (ignored)",
    ]);
  });
});
