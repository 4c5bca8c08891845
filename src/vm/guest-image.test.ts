import assert from "node:assert/strict";
import {
  appendFileSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { CommandError, runCommand } from "../sys/exec.js";
import { berthFiles } from "./berth-files.js";
import { buildGuestImage, type GuestImage } from "./guest-image.js";
import { GUEST_MODULES } from "./kernel-modules.js";

const REPO = fileURLToPath(new URL("../../../", import.meta.url));

/**
 * Whether `error` is apt failing to fetch the kernel package or the lists naming it (no network, no
 * mirror): then the test skips.
 */
function downloadImpossible(error: unknown): boolean {
  for (let e = error; e instanceof Error; e = e.cause) {
    if (e instanceof CommandError && e.argv[0] === "apt-get") {
      return e.argv.includes("update") || e.argv.includes("download");
    }
  }
  return false;
}

const timed = async <T>(work: () => Promise<T>) => {
  const start = performance.now();
  const value = await work();
  return { value, ms: performance.now() - start };
};

describe("buildGuestImage", () => {
  const dir = mkdtempSync(join(tmpdir(), "berth-guest-image-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const cacheDir = join(dir, "cache");
  const packageDir = join(dir, "berth");

  it("builds a bootable initrd once, takes it from the cache after, and rebuilds when berth changes", async (t) => {
    for (const file of await berthFiles(REPO)) {
      mkdirSync(dirname(join(packageDir, file)), { recursive: true });
      copyFileSync(join(REPO, file), join(packageDir, file));
    }
    const logs: string[] = [];
    const build = () => buildGuestImage({ cacheDir, packageDir, log: (m) => logs.push(m) });
    let cold: { value: GuestImage; ms: number };
    try {
      cold = await timed(build);
    } catch (error) {
      if (!downloadImpossible(error)) throw error;
      t.skip(`apt-get cannot download the kernel package here: ${(error as Error).message}`);
      return;
    }
    const image = cold.value;
    assert.equal(image.cached, false);
    assert.match(image.kernelVersion, /^\d+\.\d+\.\d+-\d+-amd64$/);
    assert.equal(readFileSync(image.initrd).subarray(0, 6).toString("latin1"), "070701");
    const listed = (await runCommand(["cpio", "-tv", "--quiet", "-F", image.initrd])).stdout.split("\n");
    const names = new Set(listed.map((line) => line.split(/\s+/)[8] ?? ""));
    const moduleDir = `lib/modules/${image.kernelVersion}`;
    for (const name of [
      "init",
      "bin/busybox",
      "bin/sh",
      "sbin/modprobe",
      "usr/bin/node",
      "usr/sbin/runc",
      "usr/sbin/resize2fs",
      "lib64/ld-linux-x86-64.so.2",
      "etc/passwd",
      "etc/modules-load.d/berth.conf",
      "usr/lib/berth/dist/bin/berth-agent",
      "usr/lib/berth/dist/bin/berth-agent.js",
      "usr/lib/berth/build/Release/berth_native.node",
      "usr/lib/berth/build/Release/berth-pause",
      `${moduleDir}/modules.dep`,
      `${moduleDir}/kernel/fs/ext4/ext4.ko`,
      `${moduleDir}/kernel/drivers/virtio/virtio_pci.ko`,
    ]) {
      assert.ok(names.has(name), `the initrd has no ${name}`);
    }
    assert.ok(listed.some((l) => / init -> \/usr\/lib\/berth\/dist\/bin\/berth-agent$/.test(l)));
    assert.ok(!listed.some((l) => /\.blob|\.map/.test(l)));
    const extract = async (name: string) =>
      (await runCommand(["cpio", "-i", "--quiet", "--to-stdout", "-F", image.initrd, name])).stdout;
    assert.equal(await extract("etc/modules-load.d/berth.conf"), `${GUEST_MODULES.join("\n")}\n`);
    assert.match(await extract(`${moduleDir}/modules.dep`), /^kernel\/fs\/ext4\/ext4\.ko: .*jbd2\.ko/m);
    t.diagnostic(
      `cold build ${(cold.ms / 1000).toFixed(1)} s, initrd ${readFileSync(image.initrd).length} bytes`,
    );

    const warm = await timed(build);
    assert.deepEqual(warm.value, { ...image, cached: true });
    assert.ok(warm.ms < 10_000, `a cached build took ${warm.ms} ms`);
    t.diagnostic(`cached build ${(warm.ms / 1000).toFixed(1)} s`);

    appendFileSync(join(packageDir, "package.json"), "\n");
    logs.length = 0;
    const changed = await build();
    assert.equal(changed.cached, false);
    assert.notEqual(changed.key, image.key);
    assert.ok(!logs.some((m) => /downloading/.test(m)), `the kernel was fetched again: ${logs.join("; ")}`);
    assert.ok(!existsSync(image.initrd), "the older image is still there");
    assert.deepEqual(
      readdirSync(cacheDir).filter((n) => n.startsWith(".build-")),
      [],
      "a build directory was left",
    );
  });
});
