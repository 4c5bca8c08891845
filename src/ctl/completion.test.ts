import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { describe, it } from "node:test";
import { COMMANDS } from "./commands.js";
import { completionScript } from "./completion.js";

function complete(words: string[]): string[] {
  const script = `${completionScript(COMMANDS)}
COMP_WORDS=(${words.map((w) => `'${w}'`).join(" ")}); COMP_CWORD=${words.length - 1}
_berthctl; printf '%s\\n' "\${COMPREPLY[@]}"`;
  return execFileSync("bash", ["-c", script], { encoding: "utf8" }).split("\n").filter(Boolean);
}

describe("the bash completion script", () => {
  it("completes commands, options, RPC names and signals", () => {
    assert.deepEqual(complete(["berthctl", "ru"]), ["run"]);
    assert.ok(complete(["berthctl", "--addr", "unix:///x", "run", "--ro"]).includes("--rootfs"));
    assert.deepEqual(complete(["berthctl", "call", "CreateS"]), ["CreateSandbox"]);
    assert.deepEqual(complete(["berthctl", "kill", "web", "KIL"]), ["KILL"]);
    assert.deepEqual(complete(["berthctl", "run", "--rootfs", "/r", "--", "l"]), []);
  });
});
