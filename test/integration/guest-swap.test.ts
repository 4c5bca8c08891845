import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Code } from "../../src/protocol/ttrpc/code.js";
import { type AgentProcess, startAgent } from "../support/agent-process.js";
import { AgentRpc } from "../support/agent-rpc.js";
import { failsWith } from "../support/container-fixture.js";
import { T } from "../support/process-helpers.js";

/**
 * The swap areas in use, as paths this process can compare. The kernel names an area by its path from the
 * reader's root; a device node the agent opened through its own mount namespace's /dev shows as "/loopN".
 */
const swaps = () =>
  readFileSync("/proc/swaps", "utf8")
    .split("\n")
    .slice(1)
    .map((l) => l.split(/\s+/)[0] ?? "")
    .filter(Boolean)
    .map((name) => (/^\/loop[0-9]+$/.test(name) ? `/dev${name}` : name));

const signature = (path: string) => {
  try {
    return execFileSync("blkid", ["-p", "-o", "value", "-s", "TYPE", path], { encoding: "utf8" }).trim();
  } catch {
    return "";
  }
};

describe("AddSwapPath and AddSwap, on this machine's own kernel", () => {
  const dir = mkdtempSync(join(tmpdir(), "berth-swap-"));
  const loops: string[] = [];
  let agent: AgentProcess;
  let rpc: AgentRpc;

  const loop = (name: string, bytes: number) => {
    const image = join(dir, name);
    writeFileSync(image, "");
    truncateSync(image, bytes);
    const device = execFileSync("losetup", ["--find", "--show", image], { encoding: "utf8" }).trim();
    loops.push(device);
    return { image, device };
  };

  before(async () => {
    agent = await startAgent({ args: ["--hotplug-timeout", "1"] });
    rpc = await AgentRpc.connect(agent.socketPath);
  });

  after(async () => {
    rpc?.close();
    await agent?.stop();
    for (const device of loops) {
      if (swaps().includes(device)) execFileSync("swapoff", [device]);
      execFileSync("losetup", ["-d", device]);
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it("formats a blank device as swap and enables it; asked again, answers OK and leaves it as it is", async () => {
    const { device } = loop("blank", 16 << 20);
    await rpc.call("addSwapPath", { path: device }, T);
    assert.ok(swaps().includes(device), readFileSync("/proc/swaps", "utf8"));
    assert.equal(signature(device), "swap");
    await rpc.call("addSwapPath", { path: device }, T);
    assert.equal(swaps().filter((s) => s === device).length, 1);
    await agent.waitForLog((l) => l.msg === "swap already enabled" && l.swap === device);
  });

  it("enables a device the host formatted without formatting it again", async () => {
    const { device } = loop("formatted", 16 << 20);
    execFileSync("mkswap", ["-L", "from-the-host", device], { stdio: "ignore" });
    await rpc.call("addSwapPath", { path: device }, T);
    assert.ok(swaps().includes(device));
    assert.match(execFileSync("blkid", ["-p", device], { encoding: "utf8" }), /LABEL="from-the-host"/);
  });

  it("never formats a device that holds a filesystem", async () => {
    const { device } = loop("ext4", 16 << 20);
    execFileSync("mkfs.ext4", ["-q", device]);
    await assert.rejects(
      rpc.call("addSwapPath", { path: device }, T),
      failsWith(Code.FAILED_PRECONDITION, /holds ext4 signature: refusing to format it as swap/),
    );
    assert.equal(signature(device), "ext4");
    assert.ok(!swaps().includes(device));
  });

  it("puts back what mkswap overwrote when the kernel refuses the area", async () => {
    // A file with holes (on ext4, as /tmp is here): mkswap formats it, the kernel will not swap on it.
    const sparse = join(dir, "sparse");
    writeFileSync(sparse, Buffer.alloc(4096, 7));
    truncateSync(sparse, 8 << 20);
    const before = readFileSync(sparse);
    await assert.rejects(
      rpc.call("addSwapPath", { path: sparse }, T),
      failsWith(Code.INTERNAL, /cannot make .*sparse swap: .*swapon/),
    );
    assert.ok(readFileSync(sparse).equals(before), "the file's first bytes were not restored");
    assert.equal(signature(sparse), "");
    assert.ok(!swaps().includes(sparse));
  });

  it("refuses a relative path, a directory, and a device node that never appears", async () => {
    await assert.rejects(
      rpc.call("addSwapPath", { path: "swapfile" }, T),
      failsWith(Code.INVALID_ARGUMENT, /not an absolute, normal path/),
    );
    await assert.rejects(
      rpc.call("addSwapPath", { path: dir }, T),
      failsWith(Code.FAILED_PRECONDITION, /neither a block device nor a regular file/),
    );
    const started = Date.now();
    await assert.rejects(rpc.call("addSwapPath", { path: "/dev/vdzz" }, T), (e: Error) =>
      /vdzz/.test(e.message),
    );
    assert.ok(Date.now() - started < 5000);
  });

  it("AddSwap waits for the disk at a PCI path, bounded by the hotplug timeout", async () => {
    await assert.rejects(rpc.call("addSwap", { PCIPath: [0x1f] }, T), (e: Error) => /1f/.test(e.message));
  });
});
