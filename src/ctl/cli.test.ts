import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { describe, it } from "node:test";
import { AGENT_VERSION } from "../version.js";
import { runCli } from "./cli.js";

async function cli(...argv: string[]) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = "";
  let err = "";
  stdout.setEncoding("utf8").on("data", (text: string) => {
    out += text;
  });
  stderr.setEncoding("utf8").on("data", (text: string) => {
    err += text;
  });
  const code = await runCli(argv, {}, { stdin: new PassThrough(), stdout, stderr });
  return { code, stdout: out, stderr: err };
}

describe("runCli() without an agent", () => {
  it("prints the usage: on stdout for --help, on stderr (exit 1) without a command", async () => {
    const help = await cli("--help");
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage: berthctl \[OPTIONS\] COMMAND/);
    assert.match(help.stdout, /\n {2}run --rootfs DIR/);
    assert.match(help.stdout, /\n {2}ps ID \[-- PS_ARGS\.\.\.\]/);
    const bare = await cli();
    assert.deepEqual([bare.code, bare.stdout, bare.stderr], [1, "", help.stdout]);
  });

  it("prints one command's usage for COMMAND --help and help COMMAND", async () => {
    const help = await cli("run", "--help");
    assert.match(help.stdout, /^Usage: berthctl run --rootfs DIR/);
    assert.match(help.stdout, /-t, --tty/);
    assert.deepEqual(await cli("help", "run"), help);
  });

  it("prints its own version without an agent", async () => {
    assert.deepEqual(await cli("--version"), { code: 0, stdout: `berthctl ${AGENT_VERSION}\n`, stderr: "" });
  });

  it("lists every RPC without an agent", async () => {
    const { code, stdout } = await cli("list");
    assert.equal(code, 0);
    assert.equal(stdout.trim().split("\n").length, 45, "Health 2, AgentService 42 + ListProcesses");
  });

  for (const [argv, stderr, code] of [
    [["nope"], 'berthctl: unknown command "nope"; "berthctl --help" lists them\n', 1],
    [["run", "--bogus"], "berthctl: run: unknown option --bogus (see berthctl run --help)\n", 125],
    [["kill"], "berthctl: kill: missing arguments; usage: berthctl kill ID [SIGNAL]\n", 1],
    [["rm", "a", "b"], 'berthctl: rm: unexpected argument "b"; usage: berthctl rm ID\n', 1],
    [["run", "ls"], "berthctl: run needs --rootfs DIR\n", 125],
    [["exec", "web"], "berthctl: exec needs a command: berthctl exec ID -- CMD [ARG...]\n", 125],
    [["--timeout", "soon", "health"], "berthctl: --timeout soon: expected seconds, 0 for none\n", 1],
    [
      ["--addr", "tcp://h:1", "health"],
      /^berthctl: invalid agent address "tcp:\/\/h:1": .*\(from --addr\); addresses are/,
      1,
    ],
    [["ps"], "berthctl: ps: missing arguments; usage: berthctl ps ID [-- PS_ARGS...]\n", 1],
  ] as const) {
    it(`fails in one line: berthctl ${argv.join(" ")}`, async () => {
      const result = await cli(...argv);
      assert.equal(result.code, code);
      assert.equal(result.stdout, "");
      if (typeof stderr === "string") assert.equal(result.stderr, stderr);
      else assert.match(result.stderr, stderr);
      assert.equal(result.stderr.split("\n").length, 2, "one line");
    });
  }
});
