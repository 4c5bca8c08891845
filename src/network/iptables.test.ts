import assert from "node:assert/strict";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { AgentError, Code } from "../errors.js";
import { CommandError, type RunOptions, type RunResult } from "../sys/exec.js";
import { IpTables, type IpTablesOptions, toolCandidates } from "./iptables.js";

describe("toolCandidates()", () => {
  it("searches the given directories, then PATH's absolute entries, each once", () => {
    assert.deepEqual(toolCandidates("iptables-save", ["/usr/sbin", "/sbin"], "/usr/bin:bin::/sbin:/opt/x/"), [
      "/usr/sbin/iptables-save",
      "/sbin/iptables-save",
      "/usr/bin/iptables-save",
      "/opt/x/iptables-save",
    ]);
  });

  it("takes no PATH entries when there is no PATH", () => {
    assert.deepEqual(toolCandidates("ip6tables-restore", ["/usr/sbin"], undefined), [
      "/usr/sbin/ip6tables-restore",
    ]);
  });
});

interface Call {
  argv: readonly string[];
  input: string;
  signal: boolean;
}

/** A command runner that records each call and answers with `answer`'s result or error. */
function fakeRunner(answer: (argv: readonly string[], call: number) => RunResult | Error) {
  const calls: Call[] = [];
  const run = async (argv: readonly string[], options: RunOptions): Promise<RunResult> => {
    const input = options.input ?? "";
    calls.push({
      argv,
      input: typeof input === "string" ? input : new TextDecoder().decode(input),
      signal: options.signal !== undefined,
    });
    const result = answer(argv, calls.length - 1);
    if (result instanceof Error) throw result;
    return result;
  };
  return { run, calls };
}

const exited = (argv: readonly string[], exitCode: number, stderr: string) =>
  new CommandError(Code.INTERNAL, `${argv.join(" ")}: exited with ${exitCode}: ${stderr}`, {
    argv,
    exitCode,
    signal: null,
    stderr,
  });

const killed = (argv: readonly string[]) =>
  new CommandError(Code.DEADLINE_EXCEEDED, `${argv.join(" ")}: timed out after 30000 ms`, {
    argv,
    exitCode: null,
    signal: "SIGKILL",
    stderr: "",
  });

const ok = (stdout = ""): RunResult => ({ stdout, stderr: "" });
const bytes = (text: string) => new TextEncoder().encode(text);
const text = (data: Uint8Array) => new TextDecoder().decode(data);
const isError = (code: Code, message: RegExp) => (e: unknown) =>
  e instanceof AgentError && e.code === code && message.test(e.message);

const SAVED = "*filter\n:INPUT ACCEPT [0:0]\n[3:180] -A INPUT -s 10.0.0.1/32 -j DROP\nCOMMIT\n";
const TWO_TABLES = "*nat\n-A PREROUTING -j RETURN\nCOMMIT\n*filter\n-A INPUT -j NOPE\nCOMMIT\n";

describe("IpTables", () => {
  let dir: string;
  let sbin: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "berth-iptables-"));
    sbin = join(dir, "sbin");
    mkdirSync(sbin);
    for (const tool of ["iptables-save", "iptables-restore", "ip6tables-save", "ip6tables-restore"]) {
      writeFileSync(join(sbin, tool), "");
      chmodSync(join(sbin, tool), 0o755);
    }
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const ipTables = (run: NonNullable<IpTablesOptions["run"]>) =>
    new IpTables({ run, searchDirs: [sbin], path: undefined });

  it("saves IPv6 with ip6tables-save and IPv4 with iptables-save (Kata #11803), answering their output", async () => {
    const { run, calls } = fakeRunner((argv) => ok(`saved by ${argv[0]}`));
    const tables = ipTables(run);
    assert.equal(text(await tables.save("ipv6")), `saved by ${join(sbin, "ip6tables-save")}`);
    assert.equal(text(await tables.save("ipv4")), `saved by ${join(sbin, "iptables-save")}`);
    assert.deepEqual(
      calls.map((c) => c.argv),
      [[join(sbin, "ip6tables-save")], [join(sbin, "iptables-save")]],
    );
  });

  it("fails a save whose tool exits non-zero, quoting its stderr (Kata ignores the status)", async () => {
    const { run } = fakeRunner((argv) => exited(argv, 1, "iptables-save v1.8.9: cannot initialize table"));
    await assert.rejects(
      ipTables(run).save("ipv4"),
      isError(
        Code.INTERNAL,
        /^cannot save the IPv4 rules: .*exited with 1: iptables-save v1\.8\.9: cannot initialize/,
      ),
    );
  });

  it("fails a save that prints more than 4 MiB rather than answer part of the rules", async () => {
    const { run } = fakeRunner(() => ok("x".repeat((4 << 20) + 1)));
    await assert.rejects(
      ipTables(run).save("ipv4"),
      isError(Code.RESOURCE_EXHAUSTED, /more than 4194304 bytes/),
    );
  });

  it("answers FAILED_PRECONDITION naming the package when the tool is nowhere, skipping what cannot run", async () => {
    const empty = join(dir, "empty");
    mkdirSync(join(empty, "iptables-save"), { recursive: true });
    writeFileSync(join(empty, "iptables-restore"), "");
    const { run, calls } = fakeRunner(() => ok());
    const tables = new IpTables({ run, searchDirs: [empty], path: "/berth-nonexistent" });
    await assert.rejects(
      tables.save("ipv4"),
      isError(
        Code.FAILED_PRECONDITION,
        /^iptables-save is in none of .*empty and PATH \(\/berth-nonexistent\): .*iptables package/,
      ),
    );
    await assert.rejects(
      tables.restore("ipv4", bytes(SAVED)),
      isError(Code.FAILED_PRECONDITION, /iptables-restore/),
    );
    assert.equal(calls.length, 0);
  });

  it("restores with --wait 5, the document on stdin, answering the tool's output", async () => {
    const { run, calls } = fakeRunner((_, i) => ok(i === 0 ? SAVED : "restored\n"));
    const output = await ipTables(run).restore("ipv6", bytes(SAVED), new AbortController().signal);
    assert.equal(text(output), "restored\n");
    assert.deepEqual(calls, [
      { argv: [join(sbin, "ip6tables-save"), "--counters"], input: "", signal: true },
      { argv: [join(sbin, "ip6tables-restore"), "--wait", "5"], input: SAVED, signal: true },
    ]);
  });

  it("takes no snapshot for a document that names no table", async () => {
    const { run, calls } = fakeRunner(() => ok());
    await ipTables(run).restore("ipv4", bytes(""));
    assert.deepEqual(
      calls.map((c) => c.argv),
      [[join(sbin, "iptables-restore"), "--wait", "5"]],
    );
  });

  it("answers a refused one-table document INVALID_ARGUMENT with the tool's words, putting nothing back", async () => {
    const words =
      "iptables-restore v1.8.9 (nf_tables): Chain 'NOPE' does not exist\nError occurred at line: 2";
    const { run, calls } = fakeRunner((argv, i) => (i === 0 ? ok(SAVED) : exited(argv, 2, words)));
    await assert.rejects(
      ipTables(run).restore("ipv4", bytes("*filter\n-A INPUT -j NOPE\nCOMMIT\n")),
      (e: unknown) =>
        e instanceof AgentError &&
        e.code === Code.INVALID_ARGUMENT &&
        e.message.startsWith("the IPv4 rules were refused: ") &&
        e.message.endsWith(words),
    );
    assert.equal(calls.length, 2);
  });

  it("puts back every table a refused document of several names, with their counters", async () => {
    const { run, calls } = fakeRunner((argv, i) =>
      i === 1 ? exited(argv, 2, "Chain 'NOPE' does not exist") : ok(i === 0 ? SAVED : ""),
    );
    await assert.rejects(
      ipTables(run).restore("ipv4", bytes(TWO_TABLES)),
      isError(
        Code.INVALID_ARGUMENT,
        /refused: .*'NOPE' does not exist \(tables nat, filter put back as they were\)$/,
      ),
    );
    assert.deepEqual(calls[2], {
      argv: [join(sbin, "iptables-restore"), "--counters", "--wait", "5"],
      input: `*nat\nCOMMIT\n${SAVED}`,
      signal: false,
    });
  });

  it("puts back even a one-table document's table when the tool was killed, keeping the timeout's code", async () => {
    const { run, calls } = fakeRunner((argv, i) => (i === 1 ? killed(argv) : ok(i === 0 ? SAVED : "")));
    await assert.rejects(
      ipTables(run).restore("ipv4", bytes("*filter\nCOMMIT\n"), new AbortController().signal),
      isError(Code.DEADLINE_EXCEEDED, /timed out after 30000 ms \(tables filter put back as they were\)$/),
    );
    assert.equal(calls[2]?.input, SAVED);
    assert.equal(calls[2]?.signal, false);
  });

  it("says the tables may be half-applied when putting them back fails too", async () => {
    const { run } = fakeRunner((argv, i) =>
      i === 0 ? ok(SAVED) : i === 1 ? exited(argv, 4, "RULE_APPEND failed") : exited(argv, 4, "no memory"),
    );
    await assert.rejects(
      ipTables(run).restore("ipv4", bytes(TWO_TABLES)),
      isError(
        Code.INTERNAL,
        /refused: .*RULE_APPEND failed; putting back the tables nat, filter failed too, so they may hold part of the new rules: .*no memory$/,
      ),
    );
  });

  it("changes nothing when the snapshot before a restore fails", async () => {
    const { run, calls } = fakeRunner((argv) => exited(argv, 1, "cannot read"));
    await assert.rejects(
      ipTables(run).restore("ipv4", bytes(TWO_TABLES)),
      isError(Code.INTERNAL, /^cannot save the IPv4 rules before changing them: /),
    );
    assert.equal(calls.length, 1);
  });

  it("runs one family's restores one at a time, the other family's beside them", async () => {
    let running = 0;
    let most = 0;
    const run = async (argv: readonly string[]): Promise<RunResult> => {
      if (argv[0]?.endsWith("-save")) return ok(SAVED);
      running++;
      most = Math.max(most, running);
      await new Promise((resolve) => setTimeout(resolve, 10));
      running--;
      return ok();
    };
    const tables = ipTables(run);
    await Promise.all([1, 2, 3].map(() => tables.restore("ipv4", bytes(SAVED))));
    assert.equal(most, 1);
    await Promise.all([tables.restore("ipv4", bytes(SAVED)), tables.restore("ipv6", bytes(SAVED))]);
    assert.equal(most, 2);
  });
});
