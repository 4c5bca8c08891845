import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type OptionSpec, parseArgs } from "./cli-args.js";
import { UsageError } from "./ctl-error.js";

const OPTIONS: OptionSpec[] = [
  { name: "tty", short: "t", kind: "flag" },
  { name: "interactive", short: "i", kind: "flag" },
  { name: "rootfs", kind: "value" },
  { name: "env", short: "e", kind: "list" },
];

describe("parseArgs()", () => {
  it("reads long, short, clustered, glued and repeated options", () => {
    const args = parseArgs(["-ti", "--rootfs=/r", "-eA=1", "--env", "B=2", "-e", "C"], OPTIONS, 0);
    assert.deepEqual([...args.flags], ["tty", "interactive"]);
    assert.equal(args.values.get("rootfs"), "/r");
    assert.deepEqual(args.lists.get("env"), ["A=1", "B=2", "C"]);
  });

  it("starts the tail at the first argument past the positionals, options after it included", () => {
    const run = parseArgs(["--rootfs", "/r", "sh", "-c", "echo -t"], OPTIONS, 0);
    assert.deepEqual(run.tail, ["sh", "-c", "echo -t"]);
    const exec = parseArgs(["web", "-t", "ls", "-l"], OPTIONS, 1);
    assert.deepEqual(exec.positionals, ["web"]);
    assert.ok(exec.flags.has("tty"));
    assert.deepEqual(exec.tail, ["ls", "-l"]);
  });

  it("starts the tail at --, or makes what follows -- positional when there is no tail", () => {
    assert.deepEqual(parseArgs(["web", "--", "-x"], OPTIONS, 1).tail, ["-x"]);
    assert.deepEqual(parseArgs(["a", "--", "-x", "b"], OPTIONS).positionals, ["a", "-x", "b"]);
    assert.deepEqual(parseArgs(["a", "-", "b"], OPTIONS).positionals, ["a", "-", "b"]);
  });

  for (const [argv, message] of [
    [["--nope"], /unknown option --nope/],
    [["-tx"], /unknown option -x in -tx/],
    [["--rootfs"], /option --rootfs needs a value/],
    [["--tty=1"], /option --tty takes no value/],
  ] as const) {
    it(`refuses ${argv.join(" ")}`, () => {
      assert.throws(
        () => parseArgs(argv, OPTIONS, 0),
        (e: unknown) => e instanceof UsageError && message.test(e.message),
      );
    });
  }
});
