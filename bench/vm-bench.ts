/**
 * npm run bench:vm — berth as a QEMU guest's init (TCG), over the serial transport, next to its floors:
 *   1. QEMU start → first Health answer: berth vs a guest whose init only loads virtio_console, opens the
 *      port and answers Health (node, the same session layer and ttrpc, nothing else);
 *   2. Health round trips, one at a time, through the serial transport vs the same client on a unix socket
 *      to berth on the host;
 *   3. a container's create → exit (CreateContainer, StartContainer, WaitProcess, RemoveContainer of
 *      `true`) through the VM vs the same on the host agent.
 * Runs take turns. Not part of the tests; run it with nothing else busy.
 *
 *   BENCH_RUNS=3 BENCH_CALLS=300 npm run bench:vm
 */
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync } from "node:fs";
import { open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create, toBinary } from "@bufbuild/protobuf";
import { CheckRequestSchema } from "../src/protocol/gen/health_pb.js";
import { connectTtrpc } from "../src/protocol/ttrpc/client.js";
import { CpioWriter, fileSink } from "../src/vm/cpio.js";
import { buildGuestImage, defaultCacheDir, type GuestImage } from "../src/vm/guest-image.js";
import { shareStorageJson, startVm } from "../src/vm/vm-start.js";
import { stopVm } from "../src/vm/vm-stop.js";
import { startAgent } from "../test/support/agent-process.js";
import { AgentRpc } from "../test/support/agent-rpc.js";
import { makeBusyboxRootfs } from "../test/support/busybox-rootfs.js";
import { containerSpec } from "../test/support/container-spec.js";
import { median } from "../test/support/stats.js";
import { bundleForGuest } from "./bundle-for-guest.js";

const runs = Number(process.env.BENCH_RUNS ?? 3);
const calls = Number(process.env.BENCH_CALLS ?? 300);
const lifecycles = Number(process.env.BENCH_LIFECYCLES ?? 10);
const REPO = new URL("../../", import.meta.url).pathname;
const GUEST_SHARE = "/run/kata-containers/shared/containers";
const HEALTH = toBinary(CheckRequestSchema, create(CheckRequestSchema));

const FLOOR_INIT = `#!/bin/sh
mount -t proc proc /proc; mount -t sysfs sysfs /sys; mount -t devtmpfs devtmpfs /dev
modprobe virtio_pci; modprobe virtio_console
exec /usr/bin/node /usr/lib/berth/dist/bin/floor.js
`;

/** The floor's init: berth's image with /init and a small program over it (a second cpio, concatenated). */
async function floorImage(image: GuestImage, dir: string): Promise<GuestImage> {
  const script = join(dir, "floor.js");
  await bundleForGuest(join(REPO, "dist/bench/vm-floor-init.js"), script);
  const initrd = join(dir, "floor.cpio");
  const out = await open(initrd, "w");
  try {
    const base = await open(image.initrd, "r");
    await base.readFile().then((bytes) => out.write(bytes));
    await base.close();
    const cpio = new CpioWriter(fileSink(out));
    await cpio.file("init", 0o755, Buffer.from(FLOOR_INIT));
    await cpio.fileFrom("usr/lib/berth/dist/bin/floor.js", 0o644, script);
    await cpio.finish();
  } finally {
    await out.close();
  }
  return { ...image, initrd, cached: false };
}

const spread = (xs: number[]) => `${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)}`;

async function healthRoundTrips(socket: string): Promise<number[]> {
  const client = await connectTtrpc(socket);
  const times: number[] = [];
  try {
    for (let i = 0; i < calls; i++) {
      const t = performance.now();
      await client.call("grpc.Health", "Check", HEALTH, { timeoutMs: 10_000 });
      times.push(performance.now() - t);
    }
  } finally {
    client.close();
  }
  return times;
}

async function lifecycle(rpc: AgentRpc, rootfs: string, n: number): Promise<number> {
  const id = `b${n}`;
  const t = performance.now();
  await rpc.call("createContainer", {
    containerId: id,
    execId: id,
    OCI: containerSpec({ rootfs, args: ["true"] }),
  });
  await rpc.call("startContainer", { containerId: id });
  await rpc.call("waitProcess", { containerId: id, execId: id });
  await rpc.call("removeContainer", { containerId: id });
  return performance.now() - t;
}

async function main() {
  const image = await buildGuestImage({
    cacheDir: defaultCacheDir(process.env),
    packageDir: REPO,
  });
  const work = mkdtempSync(join(tmpdir(), "berth-vm-bench-"));
  const floor = await floorImage(image, work);
  const share = join(work, "share");
  makeBusyboxRootfs(join(share, "c/rootfs"));
  mkdirSync(join(work, "host"), { recursive: true });
  const hostRootfs = makeBusyboxRootfs(join(work, "host/rootfs"));
  const host = await startAgent();
  const result = {
    berthBoot: [] as number[],
    floorBoot: [] as number[],
    serial: [] as number[],
    unix: [] as number[],
  };
  const life = { vm: [] as number[], host: [] as number[] };
  try {
    const hostRpc = await AgentRpc.connect(host.socketPath);
    await hostRpc.call("createSandbox", { sandboxId: "bench", hostname: "bench" });
    for (let run = 0; run < runs; run++) {
      for (const [name, img] of [
        ["berth", image],
        ["floor", floor],
      ] as const) {
        const dir = join(work, `${name}-${run}`);
        mkdirSync(dir);
        const log = join(dir, "vm.log");
        closeSync(openSync(log, "a"));
        const vm = await startVm({
          agentSocket: join(dir, "agent.sock"),
          qmpSocket: join(dir, "qmp.sock"),
          share,
          pidFile: join(dir, "qemu.pid"),
          disks: [],
          memoryMiB: 1024,
          maxMemoryMiB: 4096,
          cpus: 1,
          maxCpus: 4,
          log,
          proxyCommand: [process.execPath, join(REPO, "dist/bin/berth-vm.js"), "proxy"],
          image: img,
        });
        try {
          if (name === "floor") {
            result.floorBoot.push(vm.bootMs);
            continue;
          }
          result.berthBoot.push(vm.bootMs);
          result.serial.push(median(await healthRoundTrips(join(dir, "agent.sock"))));
          result.unix.push(median(await healthRoundTrips(host.socketPath)));
          const rpc = await AgentRpc.connect(join(dir, "agent.sock"));
          await rpc.call("createSandbox", {
            sandboxId: "bench",
            hostname: "bench",
            storages: [JSON.parse(shareStorageJson())],
          });
          for (let i = 0; i < lifecycles; i++) {
            life.vm.push(await lifecycle(rpc, `${GUEST_SHARE}/c/rootfs`, run * lifecycles + i));
            life.host.push(await lifecycle(hostRpc, hostRootfs, run * lifecycles + i));
          }
          rpc.close();
        } finally {
          await stopVm({ qmpSocket: join(dir, "qmp.sock"), pidFile: join(dir, "qemu.pid") }).catch(
            () => undefined,
          );
        }
      }
    }
    hostRpc.close();
  } finally {
    await host.stop();
    rmSync(work, { recursive: true, force: true });
  }
  const row = (label: string, xs: number[], base: number[], unit = "ms") =>
    `| ${label} | ${median(xs).toFixed(unit === "ms" ? 1 : 3)} ${unit} (${spread(xs)}) | ${(median(xs) / median(base)).toFixed(2)}× |`;
  const lines = [
    `berth in a VM (QEMU TCG), ${runs} boots each, ${calls} Health calls and ${lifecycles} lifecycles a boot`,
    "| measure | median (spread) | ratio to its floor |",
    "| --- | --- | --- |",
    row("QEMU start → Health, berth", result.berthBoot, result.floorBoot),
    row("QEMU start → Health, floor init", result.floorBoot, result.floorBoot),
    row("Health round trip, serial transport (median of each boot)", result.serial, result.unix),
    row("Health round trip, unix socket to a host berth", result.unix, result.unix),
    row("create → exit of `true`, in the VM", life.vm, life.host),
    row("create → exit of `true`, host berth", life.host, life.host),
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
}

await main();
