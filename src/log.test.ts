import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AgentError, Code } from "./errors.js";
import { createLogger, type LoggerOptions } from "./log.js";
import { AGENT_VERSION } from "./version.js";

type Line = Record<string, unknown> & { err?: Record<string, unknown> & { cause?: Record<string, unknown> } };

/** A logger whose lines are kept, parsed, as they are written. */
function capture(options: LoggerOptions = {}) {
  const raw: string[] = [];
  const log = createLogger({
    level: "trace",
    ...options,
    destination: { write: (s: string) => raw.push(s) },
  });
  const lines = (): Line[] => raw.map((s) => JSON.parse(s) as Line);
  return { log, raw, lines };
}

describe("createLogger()", () => {
  it("writes one JSON object a line with Kata's fields", () => {
    const { log, raw, lines } = capture();
    const before = Date.now();
    log.info({ container_id: "c1" }, "hello");
    assert.equal(raw.length, 1);
    assert.ok(raw[0]?.endsWith("}\n"));
    const [line] = lines();
    assert.deepEqual(Object.keys(line ?? {}).toSorted(), [
      "container_id",
      "level",
      "msg",
      "name",
      "pid",
      "source",
      "ts",
      "version",
    ]);
    assert.equal(line?.msg, "hello");
    assert.equal(line?.level, "info");
    assert.equal(line?.pid, process.pid);
    assert.equal(line?.name, "berth-agent");
    assert.equal(line?.source, "agent");
    assert.equal(line?.version, AGENT_VERSION);
    assert.equal(line?.container_id, "c1");
    assert.match(String(line?.ts), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const ts = Date.parse(String(line?.ts));
    assert.ok(ts >= before - 1 && ts <= Date.now() + 1);
  });

  it("puts a child logger's subsystem on its lines", () => {
    const { log, lines } = capture();
    log.child({ subsystem: "rpc" }).info("call");
    log.info("root");
    assert.deepEqual(
      lines().map((l) => [l.msg, l.subsystem]),
      [
        ["call", "rpc"],
        ["root", undefined],
      ],
    );
  });

  it("names levels trace, debug, info, warn, error and fatal", () => {
    const { log, lines } = capture();
    log.trace("t");
    log.debug("d");
    log.info("i");
    log.warn("w");
    log.error("e");
    log.fatal("f");
    assert.deepEqual(
      lines().map((l) => l.level),
      ["trace", "debug", "info", "warn", "error", "fatal"],
    );
  });

  it("drops lines below its level", () => {
    const { log, lines } = capture({ level: "info" });
    log.trace("t");
    log.debug("d");
    log.info("i");
    assert.deepEqual(
      lines().map((l) => l.msg),
      ["i"],
    );
    const silent = capture({ level: "silent" });
    silent.log.fatal("f");
    assert.deepEqual(silent.lines(), []);
  });

  it("logs an error under err with its cause, and an AgentError's code by name", () => {
    const { log, lines } = capture();
    const cause = Object.assign(new Error("ENOENT: no such file or directory, open '/x'"), {
      code: "ENOENT",
    });
    const error = new AgentError(Code.NOT_FOUND, "container c1: no bundle", { cause });
    log.error({ err: error }, "create failed");
    log.error(error, "shorthand");
    for (const line of lines()) {
      assert.equal(line.err?.type, "AgentError");
      assert.equal(line.err?.message, "container c1: no bundle");
      assert.equal(line.err?.code, "NOT_FOUND");
      assert.match(String(line.err?.stack), /container c1: no bundle/);
      assert.equal(line.err?.cause?.message, "ENOENT: no such file or directory, open '/x'");
      assert.equal(line.err?.cause?.code, "ENOENT");
      assert.match(String(line.err?.cause?.stack), /ENOENT/);
    }
    assert.deepEqual(
      lines().map((l) => l.msg),
      ["create failed", "shorthand"],
    );
  });

  it("follows a chain of causes, and keeps a cause that is not an Error as text", () => {
    const { log, lines } = capture();
    const root = new Error("root", { cause: "a plain string" });
    const middle = new AgentError(Code.INTERNAL, "middle", { cause: root });
    log.error({ err: new AgentError(Code.UNAVAILABLE, "top", { cause: middle }) }, "chain");
    const err = lines()[0]?.err;
    const chain: unknown[] = [];
    for (let e: unknown = err; typeof e === "object" && e !== null; e = (e as { cause?: unknown }).cause) {
      chain.push((e as { message: unknown }).message);
      if (typeof (e as { cause?: unknown }).cause === "string") chain.push((e as { cause: string }).cause);
    }
    assert.deepEqual(chain, ["top", "middle", "root", "a plain string"]);
    assert.equal(err?.code, "UNAVAILABLE");
    assert.equal(err?.cause?.code, "INTERNAL");
  });
});
