import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { DEFAULT_PATHS } from "../config/agent-paths.js";
import { AgentError, Code } from "../errors.js";
import { bundlePaths } from "./bundle-paths.js";

describe("bundlePaths()", () => {
  it("lays a container out under the run dir as Kata does", () => {
    const b = bundlePaths(DEFAULT_PATHS, "c1");
    assert.equal(b.dir, "/run/kata-containers/c1");
    assert.equal(b.rootfs, "/run/kata-containers/c1/rootfs");
    assert.equal(b.config, "/run/kata-containers/c1/config.json");
    assert.equal(b.initPid, "/run/kata-containers/c1/init.pid");
    assert.deepEqual([b.upper, b.work], ["/run/kata-containers/c1/upper", "/run/kata-containers/c1/work"]);
    assert.deepEqual(b.exec(7), {
      process: "/run/kata-containers/c1/exec-7.json",
      pid: "/run/kata-containers/c1/exec-7.pid",
    });
  });

  it("builds no path from an id that could lead out of the run dir", () => {
    for (const id of ["..", "../x", "a/b", ".runc-logs", ""]) {
      assert.throws(
        () => bundlePaths(DEFAULT_PATHS, id),
        (e) => e instanceof AgentError && e.code === Code.INVALID_ARGUMENT,
        id,
      );
    }
  });
});
