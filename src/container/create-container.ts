import { mkdir, rmdir, writeFile } from "node:fs/promises";
import { isAbsolute, resolve } from "node:path";
import { bundlePaths } from "../bundle/bundle-paths.js";
import { type CgroupDirs, eachCgroupDir } from "../cgroup/cgroup-dirs.js";
import { findCgroupDirs } from "../cgroup/cgroup-fs.js";
import { applyDevices, type DeviceSpec, guestRootDeviceRule } from "../device/devices.js";
import { AgentError, Code } from "../errors.js";
import { denyDevice } from "../oci/device-rules.js";
import type { Spec } from "../oci/oci-spec.js";
import { specToJson } from "../oci/spec-json.js";
import { ContainerProcess } from "../process/container-process.js";
import { launchWithStdio, readPidFile } from "../process/launch.js";
import type { StorageSpec } from "../storage/storage-spec.js";
import { removeDirIfEmpty } from "../storage/storage-steps.js";
import { abortReason, throwIfAborted } from "../sys/abort.js";
import { CleanupStack } from "../sys/cleanup-stack.js";
import { onlineCpus } from "../sys/cpus.js";
import { bindMount, UnmountFlag, unmount } from "../sys/mount.js";
import { removeFile } from "../sys/remove-file.js";
import { writeSysctlsWithUndo } from "../sys/sysctl.js";
import { Container } from "./container.js";
import { type ContainerDeps, launchOptions } from "./container-deps.js";
import type { GuestHooks } from "./guest-hooks.js";
import { guestPciEnv } from "./guest-pci-env.js";
import {
  hasPidNamespace,
  joinSandboxNamespaces,
  mergeGuestHooks,
  restrictCpus,
  type SandboxNamespaces,
  setRootfs,
  takeNetSysctls,
} from "./spec-edits.js";
import { terminationLogSource } from "./termination-log.js";

export interface CreateContainerRequest {
  containerId: string;
  execId: string;
  devices: readonly DeviceSpec[];
  storages: readonly StorageSpec[];
  /** The OCI spec, converted from the wire; undefined when the host sent none. */
  spec: Spec | undefined;
  /** Join the sandbox's shared PID namespace (or donate this container's, if there is none yet). */
  sandboxPidns: boolean;
}

/** What a container takes from its sandbox, chosen by the sandbox. */
export interface SandboxPlacement {
  /** Namespace files the container joins: the sandbox's UTS and IPC, and its PID namespace when shared. */
  readonly namespaces: SandboxNamespaces;
  readonly guestHooks: GuestHooks;
  /** Told of each OOM kill in the container; none for the sandbox's own container. */
  readonly onOom: (() => void) | undefined;
}

/**
 * CreateContainer, in the Go agent's order: checks → devices (each awaited until the guest has it; the
 * process's `PCIDEVICE_*` variables then name the guest's PCI addresses, in the spec the container runs) →
 * storages (rollback armed from here) → spec edits (guest root device, cpuset, network sysctls, whose
 * old values only a failed creation restores, namespaces, guest hooks) → bundle → stdio → runc create (its undo armed
 * before it runs: a runc killed half way leaves state only that undo removes). A failure at any step
 * undoes every step before it and returns the original error. `signal` ends it at the next step, or
 * kills runc create; everything is undone and the call fails with the signal's reason.
 */
export async function createContainer(
  deps: ContainerDeps,
  placement: SandboxPlacement,
  req: CreateContainerRequest,
  signal?: AbortSignal,
): Promise<Container> {
  const bundle = bundlePaths(deps.paths, req.containerId);
  const id = bundle.id;
  const spec = req.spec;
  if (!spec) throw new AgentError(Code.INVALID_ARGUMENT, `container ${id}: the request has no OCI spec`);
  if (!spec.root?.path || !isAbsolute(spec.root.path)) {
    throw new AgentError(
      Code.INVALID_ARGUMENT,
      `container ${id}: root.path ${JSON.stringify(spec.root?.path ?? "")} is not an absolute guest path`,
    );
  }
  if (hasPidNamespace(spec)) {
    throw new AgentError(
      Code.FAILED_PRECONDITION,
      `container ${id}: the spec carries a PID namespace; the runtime must strip it (the agent chooses it)`,
    );
  }
  const undo = new CleanupStack();
  const step = (name: string) => {
    deps.faults.check(`create-container:${name}`);
    throwIfAborted(signal);
  };
  try {
    throwIfAborted(signal);
    const pci = await applyDevices(spec, req.devices, {
      devices: deps.devices,
      sysfs: deps.sysfs,
      timeoutMs: deps.hotplugTimeoutMs,
      signal,
      log: deps.log,
    });
    if (spec.process?.env) spec.process.env = guestPciEnv(spec.process.env, pci, deps.log, id);
    step("devices");

    const mountPoints = await deps.storages.add(req.storages, id, signal);
    undo.push(`release the storages of ${id}`, () => deps.storages.release(mountPoints));
    step("storages");

    const [rootRule, online] = await Promise.all([guestRootDeviceRule(), onlineCpus(deps.sysfs)]);
    if (rootRule) denyDevice(spec, rootRule);
    const cpus = spec.linux?.resources?.cpu?.cpus;
    restrictCpus(spec, online);
    step("cpuset");
    // Guest-wide, as in Kata: a created container leaves them set, even once removed.
    const sysctls = new CleanupStack();
    undo.push("restore the net sysctls of a failed creation", () => sysctls.unwind());
    await writeSysctlsWithUndo(takeNetSysctls(spec), sysctls);
    step("sysctls");
    joinSandboxNamespaces(spec, placement.namespaces);
    mergeGuestHooks(spec, placement.guestHooks);

    const { rootfs } = bundle;
    const source = spec.root.path;
    const bindsRootfs = resolve(source) !== rootfs;
    // A storage (an rw overlay's upper and work dirs) may have made the bundle directory already; the
    // rootfs mount point is made with it, in one call.
    const made = await mkdir(bindsRootfs ? rootfs : bundle.dir, { recursive: true, mode: 0o700 });
    undo.push(`remove ${bundle.dir}`, () => removeDirIfEmpty(bundle.dir, deps.log));
    if (bindsRootfs) {
      if (made === undefined) {
        throw new AgentError(Code.ALREADY_EXISTS, `container ${id}: ${rootfs} is left from before`);
      }
      undo.push(`remove ${rootfs}`, () => rmdir(rootfs));
    }
    const pidFile = bundle.initPid;
    // After runc delete, at once: neither waits for the other.
    undo.push(`remove ${bundle.config} and ${pidFile}`, () =>
      allSettledOrThrow([removeFile(bundle.config), removeFile(pidFile)]),
    );
    setRootfs(spec, rootfs);
    // The rootfs mount and config.json do not wait for each other.
    await allSettledOrThrow([
      bindsRootfs ? mountRootfs(source, rootfs, undo) : undefined,
      writeFile(bundle.config, specToJson(spec), { mode: 0o600 }),
    ]);
    step("rootfs");
    step("bundle");

    let cgroup: CgroupDirs | undefined;

    let created = false;
    undo.push(`delete what runc holds or left of ${id}`, async () => {
      const cgroups = cgroup ? eachCgroupDir(cgroup) : [];
      const left = await deps.runc.deleteLeftovers(id, { bundle: bundle.dir, created, cgroups });
      if (left.length > 0) deps.log.warn({ container: id, cgroups: left }, "cgroups still in use are left");
    });
    step("stdio");
    const io = await launchWithStdio(spec.process?.terminal === true, launchOptions(deps), (stdio) =>
      deps.runc.create(
        id,
        { bundle: bundle.dir, pidFile, consoleSocket: stdio.consoleSocket, noPivot: deps.noPivot },
        { stdio: stdio.fds, signal },
      ),
    );
    created = true;
    const pid = await readPidFile(pidFile);
    const init = new ContainerProcess({
      execId: req.execId || id,
      pid,
      io,
      exited: deps.reaper.wait(pid),
      init: true,
    });
    undo.push(`close the stdio of ${id}`, () => init.release());
    cgroup = await findCgroupDirs(pid);
    step("runc-create");

    sysctls.transfer();
    return new Container({
      id,
      bundle,
      init,
      cgroup,
      undo: undo.transfer(),
      deps,
      onOom: placement.onOom,
      pci,
      terminationLog: terminationLogSource(spec),
      ownPidNamespace: placement.namespaces.pid === undefined,
      cpus,
    });
  } catch (error) {
    await undo.unwind().catch((cleanup: unknown) => {
      deps.log.error({ container: id, err: cleanup }, "rollback of a failed CreateContainer was incomplete");
    });
    throw signal?.aborted ? abortReason(signal) : error;
  }
}

/** Bind-mounts `source` at the container's `rootfs`, its undo pushed once it is done. */
async function mountRootfs(source: string, rootfs: string, undo: CleanupStack): Promise<void> {
  await bindMount(source, rootfs, { recursive: true });
  undo.push(`unmount ${rootfs}`, () => unmount(rootfs, UnmountFlag.DETACH));
}

/** Waits for every one of `work`, then throws the first failure, if any. */
async function allSettledOrThrow(work: (Promise<void> | undefined)[]): Promise<void> {
  const failed = (await Promise.allSettled(work)).find((r) => r.status === "rejected");
  if (failed) throw failed.reason;
}
