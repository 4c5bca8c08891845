import { copyFile, mkdir } from "node:fs/promises";
import { dirname, join, relative, sep } from "node:path";
import { AgentError, Code } from "../errors.js";
import { runCommand } from "../sys/exec.js";
import { pathExists } from "../sys/path-exists.js";

/**
 * The modules the guest loads at start (from /etc/modules-load.d/berth.conf): its devices (virtio PCI,
 * block, SCSI disks, console, NVDIMM, hot-plugged NICs), VFIO for devices passed through to containers,
 * the filesystems storages use, and crc32c, which ext4 asks for.
 */
export const GUEST_MODULES: readonly string[] = [
  "virtio_pci",
  "virtio_blk",
  "virtio_scsi",
  "sd_mod",
  "virtio_console",
  "nd_pmem",
  "nfit",
  "ext4",
  "overlay",
  "9p",
  "9pnet_virtio",
  "crc32c_generic",
  "vfio",
  "vfio_iommu_type1",
  "vfio_pci",
  "virtio_net",
];

/** The module tables copied as they are (depmod makes the others); the last is not in every kernel. */
const KEPT_TABLES = ["modules.order", "modules.builtin", "modules.builtin.modinfo"];

/**
 * The module files in `modprobe --show-depends` output (`insmod <path> [options]` lines; `builtin` lines
 * name none), relative to `moduleDir`, which each must be beneath.
 */
export function moduleFilesIn(showDependsOutput: string, moduleDir: string): string[] {
  const files: string[] = [];
  for (const line of showDependsOutput.split("\n")) {
    const [verb, path] = line.trim().split(/\s+/);
    if (verb !== "insmod" || !path) continue;
    const rel = relative(moduleDir, path);
    if (rel.startsWith(`..${sep}`) || rel === ".." || rel.startsWith(sep)) {
      throw new AgentError(Code.INVALID_ARGUMENT, `modprobe named ${path}, outside ${moduleDir}`);
    }
    files.push(rel);
  }
  return files;
}

/** The module directory of kernel `kernelVersion` under the root `root`. */
export const moduleDirIn = (root: string, kernelVersion: string) =>
  join(root, "lib", "modules", kernelVersion);

/** The files (relative to the module directory) of `modules` and everything they depend on, sorted. */
export async function moduleClosure(
  kernelTree: string,
  kernelVersion: string,
  modules: readonly string[],
  signal?: AbortSignal,
): Promise<string[]> {
  const moduleDir = moduleDirIn(kernelTree, kernelVersion);
  const files = new Set<string>();
  for (const module of modules) {
    const { stdout } = await runCommand(
      ["modprobe", "-d", kernelTree, "-S", kernelVersion, "--show-depends", module],
      { signal, timeoutMs: 30_000 },
    );
    for (const file of moduleFilesIn(stdout, moduleDir)) files.add(file);
  }
  return [...files].sort();
}

/**
 * Makes `stageRoot`/lib/modules/<version> hold `files` (copied from the kernel tree), the kernel's
 * modules.order and modules.builtin(.modinfo), and depmod's tables for them.
 */
export async function stageModules(
  kernelTree: string,
  kernelVersion: string,
  files: readonly string[],
  stageRoot: string,
  signal?: AbortSignal,
): Promise<void> {
  const from = moduleDirIn(kernelTree, kernelVersion);
  const to = moduleDirIn(stageRoot, kernelVersion);
  await mkdir(to, { recursive: true });
  for (const file of files) {
    await mkdir(dirname(join(to, file)), { recursive: true });
    await copyFile(join(from, file), join(to, file));
  }
  for (const table of KEPT_TABLES) {
    if (await pathExists(join(from, table))) await copyFile(join(from, table), join(to, table));
  }
  await runCommand(["depmod", "-b", stageRoot, kernelVersion], { signal, timeoutMs: 60_000 });
}
