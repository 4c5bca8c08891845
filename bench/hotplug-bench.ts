/**
 * npm run bench:hotplug — a disk hot-plugged for a container, in the real guest (QEMU TCG), as Kata's
 * runtime does it: CreateContainer (a blk storage by PCI path) is sent, then the disk is plugged by QMP
 * (blockdev-add + device_add on pci-bridge-0), then StartContainer. Measured per disk:
 *   - in the guest, on CLOCK_MONOTONIC: when a bare uevent listener (bench/uevent-floor.ts, a container of
 *     its own: the floor) read the disk's uevent, and when berth had the disk (its "device announced"
 *     log line): what berth adds to the kernel's own time to the uevent (target ≤ 10 ms);
 *   - on the host: QMP device_add returned → CreateContainer answered, and → StartContainer answered.
 * Not part of the tests; run it with nothing else busy.
 *
 *   BENCH_DISKS=12 npm run bench:hotplug
 */
import { execFileSync } from "node:child_process";
import {
  closeSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildGuestImage, defaultCacheDir } from "../src/vm/guest-image.js";
import { qmpCommand } from "../src/vm/qmp.js";
import { shareStorageJson, startVm } from "../src/vm/vm-start.js";
import { stopVm } from "../src/vm/vm-stop.js";
import { AgentRpc } from "../test/support/agent-rpc.js";
import { makeBusyboxRootfs } from "../test/support/busybox-rootfs.js";
import { bindInto, containerSpec } from "../test/support/container-spec.js";
import { median } from "../test/support/stats.js";
import { bundleForGuest } from "./bundle-for-guest.js";

const disks = Math.min(Number(process.env.BENCH_DISKS ?? 12), 30);
const REPO = new URL("../../", import.meta.url).pathname;
const GUEST_SHARE = "/run/kata-containers/shared/containers";
const FLOOR_DIR = "/usr/lib/berth-floor";
const T = 120_000;

const spread = (xs: number[]) => `${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)}`;
const row = (label: string, xs: number[]) => `| ${label} | ${median(xs).toFixed(1)} ms | ${spread(xs)} |`;

/** The floor's rootfs in the share: busybox, its bundled script, a binding.gyp for the addon's lookup. */
async function floorRootfs(share: string): Promise<void> {
  const rootfs = join(share, "floor/rootfs");
  makeBusyboxRootfs(rootfs);
  mkdirSync(join(rootfs, FLOOR_DIR, "dist/bin"), { recursive: true });
  mkdirSync(join(rootfs, FLOOR_DIR, "build"), { recursive: true });
  writeFileSync(join(rootfs, FLOOR_DIR, "binding.gyp"), "{}\n");
  await bundleForGuest(
    join(REPO, "dist/bench/uevent-floor.js"),
    join(rootfs, FLOOR_DIR, "dist/bin/floor.js"),
  );
  for (const dir of ["usr/bin", "lib/x86_64-linux-gnu", "lib64"])
    mkdirSync(join(rootfs, dir), { recursive: true });
  closeSync(openSync(join(rootfs, "usr/bin/node"), "w"));
}

/** The guest's node, its libraries and berth's addon, bound read-only into the floor's container. */
const floorMounts = () => [
  bindInto("/usr/bin/node", "/usr/bin/node", true),
  bindInto("/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu", true),
  bindInto("/lib64", "/lib64", true),
  bindInto("/usr/lib/berth/build", `${FLOOR_DIR}/build`, true),
  bindInto(`${GUEST_SHARE}/out`, "/out"),
];

function ext4Image(dir: string, name: string): string {
  const image = join(dir, `${name}.img`);
  execFileSync("mkfs.ext4", ["-q", "-F", image, "16M"]);
  return image;
}

async function waitForFile(path: string, ms: number): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      readFileSync(path);
      return;
    } catch {
      if (Date.now() > end) throw new Error(`${path} did not appear in ${ms} ms`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

async function main() {
  const image = await buildGuestImage({ cacheDir: defaultCacheDir(process.env), packageDir: REPO });
  const work = mkdtempSync(join(tmpdir(), "berth-hotplug-bench-"));
  const share = join(work, "share");
  makeBusyboxRootfs(join(share, "c/rootfs"));
  mkdirSync(join(share, "out"), { recursive: true });
  await floorRootfs(share);
  const log = join(work, "vm.log");
  closeSync(openSync(log, "a"));
  const qmpSocket = join(work, "qmp.sock");
  const pidFile = join(work, "qemu.pid");
  const agentSocket = join(work, "agent.sock");
  await startVm({
    agentSocket,
    qmpSocket,
    share,
    pidFile,
    disks: [],
    memoryMiB: 1024,
    maxMemoryMiB: 4096,
    cpus: 2,
    maxCpus: 4,
    hotplugTimeoutS: 30,
    log,
    proxyCommand: [process.execPath, join(REPO, "dist/bin/berth-vm.js"), "proxy"],
    image,
  });
  const host = { created: [] as number[], started: [] as number[] };
  const rpc = await AgentRpc.connect(agentSocket);
  try {
    await rpc.call(
      "createSandbox",
      { sandboxId: "bench", hostname: "bench", storages: [JSON.parse(shareStorageJson())] },
      T,
    );
    await rpc.call(
      "createContainer",
      {
        containerId: "floor",
        execId: "floor",
        OCI: containerSpec({
          rootfs: `${GUEST_SHARE}/floor/rootfs`,
          args: ["/usr/bin/node", `${FLOOR_DIR}/dist/bin/floor.js`, "/out/floor"],
          mounts: floorMounts(),
        }),
      },
      T,
    );
    await rpc.call("startContainer", { containerId: "floor" }, T);
    await waitForFile(join(share, "out/floor.ready"), 60_000);
    for (let i = 1; i <= disks; i++) {
      const id = `d${i}`;
      const slot = i.toString(16).padStart(2, "0");
      const mountPoint = `/run/kata-containers/sandbox/storage/${Buffer.from(`02/${slot}`).toString("base64url")}`;
      const creating = rpc.call(
        "createContainer",
        {
          containerId: id,
          execId: id,
          OCI: containerSpec({ rootfs: `${GUEST_SHARE}/c/rootfs`, args: ["true"] }),
          storages: [{ driver: "blk", source: `02/${slot}`, fstype: "ext4", options: [], mountPoint }],
        },
        T,
      );
      await new Promise((resolve) => setTimeout(resolve, 300));
      await qmpCommand(qmpSocket, "blockdev-add", {
        driver: "raw",
        "node-name": `drive-${id}`,
        file: { driver: "file", filename: ext4Image(work, id) },
      });
      await qmpCommand(qmpSocket, "device_add", {
        driver: "virtio-blk-pci",
        id,
        drive: `drive-${id}`,
        bus: "pci-bridge-0",
        addr: slot,
      });
      const plugged = performance.now();
      await creating;
      host.created.push(performance.now() - plugged);
      await rpc.call("startContainer", { containerId: id }, T);
      host.started.push(performance.now() - plugged);
      await rpc.call("waitProcess", { containerId: id, execId: id }, T);
      await rpc.call("removeContainer", { containerId: id }, T);
    }
    await new Promise((resolve) => setTimeout(resolve, 1500));
  } finally {
    rpc.close();
    await stopVm({ qmpSocket, pidFile }).catch(() => undefined);
  }
  const floor = new Map<string, number>();
  for (const line of readFileSync(join(share, "out/floor"), "utf8").trim().split("\n")) {
    const [us, devpath] = line.split(" ");
    if (devpath) floor.set(devpath, Number(us));
  }
  const added: number[] = [];
  for (const line of readFileSync(log, "utf8").split("\n")) {
    const json = line.slice(line.indexOf("{"));
    if (!json.includes('"device announced"')) continue;
    const entry = JSON.parse(json) as { devpath: string; monotonic_us: number };
    const seen = floor.get(entry.devpath);
    if (seen !== undefined) added.push((entry.monotonic_us - seen) / 1000);
  }
  copyFileSync(log, join(tmpdir(), "berth-hotplug-bench-vm.log"));
  rmSync(work, { recursive: true, force: true });
  const lines = [
    `a virtio-blk disk hot-plugged on pci-bridge-0 for a waiting CreateContainer, ${disks} disks, one VM (QEMU TCG)`,
    "| measure | median | spread |",
    "| --- | --- | --- |",
    row("in the guest: the floor listener read the uevent → berth had the disk (berth's addition)", added),
    row(
      "host: device_add returned → CreateContainer answered (disk found, ext4 mounted, runc create)",
      host.created,
    ),
    row("host: device_add returned → StartContainer answered", host.started),
    `(${added.length} of ${disks} disks matched between the floor's and berth's records; console log kept in ${join(tmpdir(), "berth-hotplug-bench-vm.log")})`,
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
}

await main();
