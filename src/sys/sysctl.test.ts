import assert from "node:assert/strict";
import { access, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { AgentError, Code } from "../errors.js";
import { CleanupStack } from "./cleanup-stack.js";
import { sysctlPath, writeSysctls, writeSysctlsWithUndo } from "./sysctl.js";

function isAgentError(code: Code, message: RegExp) {
  return (e: unknown) => e instanceof AgentError && e.code === code && message.test(e.message);
}

describe("sysctlPath()", () => {
  for (const [key, path] of [
    ["net.ipv4.ip_forward", "net/ipv4/ip_forward"],
    ["kernel.shm_rmid_forced", "kernel/shm_rmid_forced"],
    ["net.ipv4.conf.eth0/100.forwarding", "net/ipv4/conf/eth0.100/forwarding"],
    ["net/ipv4/conf/eth0.100/forwarding", "net/ipv4/conf/eth0.100/forwarding"],
    ["net.ipv6.conf.veth-a_1.disable_ipv6", "net/ipv6/conf/veth-a_1/disable_ipv6"],
    ["fs", "fs"],
  ] satisfies [string, string][]) {
    it(`maps ${key} to ${path} as sysctl(8) does`, () => {
      assert.equal(sysctlPath(key), path);
    });
  }

  for (const key of [
    "",
    ".net.ipv4",
    "net..ipv4",
    "net.ipv4.",
    "/net/ipv4",
    "net/../../etc/passwd",
    "net/./ipv4",
    "net.ipv4.conf.a/..b",
    "net.ipv4 .x",
    "net.ipv4\n",
    "net.ipv4.conf.*.forwarding",
    "x".repeat(257),
  ]) {
    it(`rejects ${JSON.stringify(key.length > 40 ? `${key.slice(0, 40)}…` : key)}`, () => {
      assert.throws(() => sysctlPath(key), isAgentError(Code.INVALID_ARGUMENT, /^invalid sysctl key /));
    });
  }

  it("resolves a real key under /proc/sys (read only)", async () => {
    const file = `/proc/sys/${sysctlPath("net.ipv4.ip_forward")}`;
    await access(file);
    assert.match(await readFile(file, "utf8"), /^[01]\n$/);
  });
});

describe("writeSysctls()", () => {
  let procSys: string;

  before(async () => {
    procSys = await mkdtemp(join(tmpdir(), "berth-sysctl-"));
    await mkdir(join(procSys, "net/ipv4/conf/eth0.100"), { recursive: true });
    await writeFile(join(procSys, "net/ipv4/ip_forward"), "0\n");
    await writeFile(join(procSys, "net/ipv4/conf/eth0.100/forwarding"), "0\n");
    await writeFile(join(procSys, "net/ipv4/ip_local_port_range"), "32768\t60999\n");
  });

  after(async () => {
    await rm(procSys, { recursive: true, force: true });
  });

  const read = (path: string) => readFile(join(procSys, path), "utf8");

  it("writes each value to its file, replacing what was there", async () => {
    await writeSysctls(
      {
        "net.ipv4.ip_forward": "1",
        "net.ipv4.conf.eth0/100.forwarding": "1",
        "net/ipv4/ip_local_port_range": "1024 2048",
      },
      procSys,
    );
    assert.equal(await read("net/ipv4/ip_forward"), "1");
    assert.equal(await read("net/ipv4/conf/eth0.100/forwarding"), "1");
    assert.equal(await read("net/ipv4/ip_local_port_range"), "1024 2048");
  });

  it("does nothing for no values", async () => {
    await writeSysctls({}, procSys);
  });

  it("refuses a missing key with NOT_FOUND naming it, and creates nothing", async () => {
    await assert.rejects(
      writeSysctls({ "net.ipv4.no_such_key": "1" }, procSys),
      isAgentError(Code.NOT_FOUND, /^sysctl net\.ipv4\.no_such_key does not exist/),
    );
    await assert.rejects(access(join(procSys, "net/ipv4/no_such_key")));
  });

  it("checks every key before writing any", async () => {
    await writeFile(join(procSys, "net/ipv4/ip_forward"), "0");
    await assert.rejects(
      writeSysctls({ "net.ipv4.ip_forward": "1", "net/../x": "1" }, procSys),
      isAgentError(Code.INVALID_ARGUMENT, /invalid sysctl key "net\/\.\.\/x"/),
    );
    assert.equal(await read("net/ipv4/ip_forward"), "0");
  });

  it("refuses a value with NUL or longer than a page", async () => {
    for (const value of ["1\u00002", "x".repeat(4097), "é".repeat(2049)]) {
      await assert.rejects(
        writeSysctls({ "net.ipv4.ip_forward": value }, procSys),
        isAgentError(
          Code.INVALID_ARGUMENT,
          /^sysctl net\.ipv4\.ip_forward: the value must be at most 4096 bytes/,
        ),
      );
    }
  });

  it("maps other write errors by errno, naming key and value", async () => {
    await assert.rejects(
      writeSysctls({ "net.ipv4.conf": "1" }, procSys),
      isAgentError(Code.INVALID_ARGUMENT, /^cannot set sysctl net\.ipv4\.conf to "1": EISDIR/),
    );
  });
});

describe("writeSysctlsWithUndo()", () => {
  let procSys: string;

  before(async () => {
    procSys = await mkdtemp(join(tmpdir(), "berth-sysctl-undo-"));
    await mkdir(join(procSys, "net/ipv4"), { recursive: true });
  });

  after(async () => {
    await rm(procSys, { recursive: true, force: true });
  });

  const read = (path: string) => readFile(join(procSys, path), "utf8");

  it("review #15: restores each value written when a later one fails, or when the stack unwinds", async () => {
    await writeFile(join(procSys, "net/ipv4/ip_forward"), "0\n");
    await writeFile(join(procSys, "net/ipv4/ip_local_port_range"), "32768\t60999\n");
    const undo = new CleanupStack();
    await assert.rejects(
      writeSysctlsWithUndo(
        { "net.ipv4.ip_forward": "1", "net.ipv4.ip_local_port_range": "1024 2048", "net.ipv4.gone": "1" },
        undo,
        procSys,
      ),
      isAgentError(Code.NOT_FOUND, /net\.ipv4\.gone/),
    );
    assert.equal(await read("net/ipv4/ip_forward"), "1");
    assert.equal(undo.size, 2);
    await undo.unwind();
    assert.equal(await read("net/ipv4/ip_forward"), "0");
    assert.equal(await read("net/ipv4/ip_local_port_range"), "32768\t60999");
  });

  it("checks every key before writing any, so a bad key leaves nothing to undo", async () => {
    const undo = new CleanupStack();
    await assert.rejects(
      writeSysctlsWithUndo({ "net.ipv4.ip_forward": "1", "net/../x": "1" }, undo, procSys),
      isAgentError(Code.INVALID_ARGUMENT, /invalid sysctl key/),
    );
    assert.equal(undo.size, 0);
  });
});
