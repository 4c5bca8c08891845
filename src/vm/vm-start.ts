import { closeSync, openSync, readFileSync } from "node:fs";
import { stat, unlink, writeFile } from "node:fs/promises";
import { create, fromBinary, toBinary, toJsonString } from "@bufbuild/protobuf";
import { AgentError, Code } from "../errors.js";
import { StorageSchema } from "../protocol/gen/agent_pb.js";
import {
  CheckRequestSchema,
  HealthCheckResponse_ServingStatus,
  HealthCheckResponseSchema,
} from "../protocol/gen/health_pb.js";
import { connectTtrpc } from "../protocol/ttrpc/index.js";
import { type DetachedCommand, spawnDetached } from "../sys/exec.js";
import { processExists } from "../sys/process-exists.js";
import type { GuestImage } from "./guest-image.js";
import { DEFAULT_HOTPLUG_TIMEOUT_S, qemuArguments, SHARE_TAG, type VmLayout } from "./qemu-command.js";

/** Where the guest mounts the share, as Kata's guests mount `kataShared`. */
export const GUEST_SHARE_PATH = "/run/kata-containers/shared/containers";
/** Under TCG a boot takes 10–20 s here; a loaded CI machine may take a few times that. */
const DEFAULT_BOOT_TIMEOUT_MS = 180_000;
const MAX_DISKS = 16;

export interface StartOptions {
  agentSocket: string;
  qmpSocket: string;
  share: string;
  pidFile?: string | undefined;
  disks: readonly string[];
  memoryMiB: number;
  maxMemoryMiB: number;
  cpus: number;
  maxCpus: number;
  log?: string | undefined;
  hotplugTimeoutS?: number | undefined;
  /** An emulated Intel IOMMU, for VFIO in the guest. */
  iommu?: boolean | undefined;
  bootTimeoutMs?: number | undefined;
  /** The proxy's command line, without its options: `berth-vm proxy` as this package runs it. */
  proxyCommand: readonly string[];
  image: GuestImage;
}

export interface StartedVm {
  qemuPid: number;
  proxyPid: number;
  log: string;
  bootMs: number;
  /** The CreateSandbox storage that mounts the share in the guest, as protobuf JSON. */
  shareStorage: string;
}

/** The Storage a Kata 1.x host sent in CreateSandbox for its 9p share (`kata_agent.go`), msize raised. */
export function shareStorageJson(): string {
  return toJsonString(
    StorageSchema,
    create(StorageSchema, {
      driver: "9p",
      source: SHARE_TAG,
      fstype: "9p",
      options: ["trans=virtio,version=9p2000.L,cache=mmap", "nodev", "msize=262144"],
      mountPoint: GUEST_SHARE_PATH,
    }),
  );
}

async function check(options: StartOptions): Promise<void> {
  const share = await stat(options.share).catch(() => undefined);
  if (!share?.isDirectory()) throw bad(`--share ${options.share} is not a directory`);
  if (options.disks.length > MAX_DISKS) throw bad(`at most ${MAX_DISKS} --disk`);
  for (const disk of options.disks) {
    if (!(await stat(disk).catch(() => undefined))?.isFile()) throw bad(`--disk ${disk} is not a file`);
  }
  if (options.cpus < 1 || options.cpus > options.maxCpus) throw bad("--cpus must be 1..--max-cpus");
  if (options.memoryMiB < 256 || options.memoryMiB > options.maxMemoryMiB) {
    throw bad("--memory must be 256..--max-memory MiB");
  }
}

function bad(message: string): AgentError {
  return new AgentError(Code.INVALID_ARGUMENT, message);
}

function tail(path: string, lines = 30): string {
  try {
    return readFileSync(path, "utf8").split("\n").slice(-lines).join("\n");
  } catch {
    return "";
  }
}

/** Calls grpc.Health/Check through the proxy until the agent answers SERVING, or `deadline`. */
async function waitForHealth(agentSocket: string, deadline: number, gone: Promise<Error>): Promise<void> {
  let stop: Error | undefined;
  void gone.then((error) => {
    stop = error;
  });
  while (Date.now() < deadline && !stop) {
    const client = await connectTtrpc(agentSocket).catch(() => undefined);
    if (!client) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      continue;
    }
    try {
      const reply = await Promise.race([
        client.call("grpc.Health", "Check", toBinary(CheckRequestSchema, create(CheckRequestSchema)), {
          timeoutMs: Math.max(1, deadline - Date.now()),
        }),
        gone.then((error) => Promise.reject(error)),
      ]);
      if (fromBinary(HealthCheckResponseSchema, reply).status === HealthCheckResponse_ServingStatus.SERVING) {
        return;
      }
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    } finally {
      client.close();
    }
  }
  throw stop ?? new Error("the agent did not answer Health in time");
}

/**
 * Boots the guest (QEMU under TCG, laid out as Kata's) and the proxy that serves its agent port on
 * `agentSocket`, both left running in sessions of their own, and returns once the agent answers Health.
 * A boot that fails leaves nothing behind: QEMU and the proxy are killed and their sockets removed.
 */
export async function startVm(options: StartOptions): Promise<StartedVm> {
  await check(options);
  const started = Date.now();
  const log = options.log ?? `${options.agentSocket}.log`;
  const portSocket = `${options.agentSocket}.port`;
  const layout: VmLayout = {
    kernel: options.image.kernel,
    initrd: options.image.initrd,
    qmpSocket: options.qmpSocket,
    portSocket,
    share: options.share,
    disks: options.disks,
    memoryMiB: options.memoryMiB,
    maxMemoryMiB: options.maxMemoryMiB,
    cpus: options.cpus,
    maxCpus: options.maxCpus,
    log,
    hotplugTimeoutS: options.hotplugTimeoutS ?? DEFAULT_HOTPLUG_TIMEOUT_S,
    iommu: options.iommu,
  };
  await writeFile(log, "", { flag: "a" });
  const logFd = openSync(log, "a");
  const spawned: DetachedCommand[] = [];
  try {
    const qemu = await spawnDetached(["qemu-system-x86_64", ...qemuArguments(layout)], logFd);
    spawned.push(qemu);
    if (options.pidFile) await writeFile(options.pidFile, `${qemu.pid}\n`);
    const proxy = await spawnDetached(
      [...options.proxyCommand, "--port-socket", portSocket, "--agent-socket", options.agentSocket],
      logFd,
    );
    spawned.push(proxy);
    const deadline = started + (options.bootTimeoutMs ?? DEFAULT_BOOT_TIMEOUT_MS);
    await waitForHealth(options.agentSocket, deadline, Promise.race([qemu.ended, proxy.ended]));
    return {
      qemuPid: qemu.pid,
      proxyPid: proxy.pid,
      log,
      bootMs: Date.now() - started,
      shareStorage: shareStorageJson(),
    };
  } catch (error) {
    for (const { pid } of spawned) if (processExists(pid)) process.kill(pid, "SIGKILL");
    for (const path of [options.agentSocket, portSocket, options.qmpSocket, options.pidFile]) {
      if (path) await unlink(path).catch(() => undefined);
    }
    const why = error instanceof Error ? error.message : String(error);
    throw new AgentError(Code.UNAVAILABLE, `the VM did not come up: ${why}\n--- ${log}:\n${tail(log)}`);
  } finally {
    closeSync(logFd);
  }
}
