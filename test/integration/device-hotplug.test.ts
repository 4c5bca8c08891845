/**
 * Devices through the real kernel of this machine: a loop device made while CreateContainer waits for it
 * (its uevent ends the wait), the machine's own virtio-blk disk found by PCI path in sysfs (present before
 * the agent started: no event will ever come for it), and a disk that never comes.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { Code } from "../../src/protocol/ttrpc/code.js";
import { failsWith, sandboxFixture } from "../support/container-fixture.js";
import { T } from "../support/process-helpers.js";

/** A loop device number nothing has made yet, so its node appears only when the test makes it. */
function unusedLoop(): number {
  for (let n = 240; n < 256; n++)
    if (!existsSync(`/sys/block/loop${n}`) && !existsSync(`/dev/loop${n}`)) return n;
  throw new Error("no unused loop device number in 240..255");
}

/** LOOP_CTL_REMOVE: the loop device goes from the kernel (and its node from devtmpfs), not only detached. */
function removeLoop(n: number): void {
  execFileSync("losetup", ["-d", `/dev/loop${n}`], { stdio: "ignore" });
  execFileSync("python3", [
    "-c",
    `import fcntl, os; fd = os.open("/dev/loop-control", os.O_RDWR); fcntl.ioctl(fd, 0x4C81, ${n})`,
  ]);
}

/** The PCI slot (on the root bus) of a virtio-blk disk this machine has, and the disk's name. */
function rootBusDisk(): { slot: string; name: string } | undefined {
  const root = "/sys/devices/pci0000:00";
  for (const fn of existsSync(root) ? readdirSync(root) : []) {
    const match = /^0000:00:([0-9a-f]{2})\.0$/.exec(fn);
    if (!match?.[1]) continue;
    for (const virtio of readdirSync(join(root, fn)).filter((e) => /^virtio\d+$/.test(e))) {
      const block = join(root, fn, virtio, "block");
      const [name] = existsSync(block) ? readdirSync(block) : [];
      if (name) return { slot: match[1], name };
    }
  }
  return undefined;
}

const numbers = (name: string) => readFileSync(`/sys/block/${name}/dev`, "utf8").trim();
const hex = (majorMinor: string) =>
  majorMinor
    .split(":")
    .map((n) => Number(n).toString(16))
    .join(":");

describe("devices awaited through the uevent listener", () => {
  const f = sandboxFixture("devices", { args: ["--hotplug-timeout", "2"] });
  const device = (path: string) => ({ path, type: "b", major: 8n, minor: 16n });

  it("waits for a disk attached during CreateContainer and gives it to the container", async () => {
    const n = unusedLoop();
    const image = join(f.dir, "loop.img");
    writeFileSync(image, Buffer.concat([Buffer.from("from-the-loop-disk\n"), Buffer.alloc(1 << 20)]));
    const create = f.rpc.call(
      "createContainer",
      {
        containerId: "loop",
        execId: "loop",
        OCI: f.spec(
          ["sh", "-c", "stat -c %t:%T /dev/xdb > /out/loop.numbers; head -n1 /dev/xdb > /out/loop.data"],
          {
            devices: [device("/dev/xdb")],
          },
        ),
        devices: [{ type: "mmioblk", vmPath: `/dev/loop${n}`, containerPath: "/dev/xdb" }],
      },
      T,
    );
    await new Promise((resolve) => setTimeout(resolve, 400));
    execFileSync("losetup", [`/dev/loop${n}`, image]);
    try {
      await create;
      await f.rpc.call("startContainer", { containerId: "loop" }, T);
      const { status } = await f.rpc.call("waitProcess", { containerId: "loop", execId: "" }, T);
      await f.rpc.call("removeContainer", { containerId: "loop" }, T);
      assert.equal(status, 0);
      assert.equal(f.read("loop.numbers"), hex(numbers(`loop${n}`)));
      assert.equal(f.read("loop.data"), "from-the-loop-disk");
    } finally {
      removeLoop(n);
    }
    assert.equal(existsSync(`/sys/block/loop${n}`), false, "the loop device is gone from the kernel");
  });

  const disk = rootBusDisk();
  it("finds a disk present before the agent started by its PCI path, at once", { skip: !disk }, async () => {
    const { slot, name } = disk as { slot: string; name: string };
    const started = Date.now();
    await f.rpc.call(
      "createContainer",
      {
        containerId: "cold2",
        execId: "cold2",
        OCI: f.spec(["sh", "-c", "stat -c %t:%T /dev/xdb > /out/cold.numbers"], {
          devices: [device("/dev/xdb")],
        }),
        devices: [{ type: "blk", id: slot, vmPath: "/dev/vdz", containerPath: "/dev/xdb" }],
      },
      T,
    );
    const created = Date.now() - started;
    assert.ok(created < 1500, `CreateContainer took ${created} ms: it waited for a disk that was there`);
    await f.rpc.call("startContainer", { containerId: "cold2" }, T);
    assert.equal((await f.rpc.call("waitProcess", { containerId: "cold2", execId: "" }, T)).status, 0);
    await f.rpc.call("removeContainer", { containerId: "cold2" }, T);
    assert.equal(f.read("cold.numbers"), hex(numbers(name)));
  });

  it("fails a disk that never comes with DEADLINE_EXCEEDED naming it, leaving nothing", async () => {
    const started = Date.now();
    await assert.rejects(
      f.rpc.call(
        "createContainer",
        {
          containerId: "never",
          OCI: f.spec(["true"], { devices: [device("/dev/xdb")] }),
          devices: [{ type: "blk", id: "1e", containerPath: "/dev/xdb" }],
          storages: [
            { driver: "scsi", source: "0:9", fstype: "ext4", mountPoint: join(f.agent.dir, "never-scsi") },
          ],
        },
        T,
      ),
      failsWith(
        Code.DEADLINE_EXCEEDED,
        /blk device "1e" for \/dev\/xdb: timed out after 2000 ms waiting for the virtio-blk disk at PCI path 1e \(\/devices\/pci0000:00\/0000:00:1e.0\)/,
      ),
    );
    const waited = Date.now() - started;
    assert.ok(waited >= 1900 && waited < 4000, `waited ${waited} ms`);
    f.assertNoContainerLeft(["never"]);
  });
});
