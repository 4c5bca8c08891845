import { mkdir, mkdtemp, readdir, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { AgentError, Code } from "../errors.js";
import { CommandError, runCommand } from "../sys/exec.js";
import { pathExists } from "../sys/path-exists.js";
import { buildDirPrefix } from "./build-dirs.js";

/** The Debian metapackage whose dependency names the guest's kernel. */
export const KERNEL_METAPACKAGE = "linux-image-amd64";

/** One concrete kernel package, as apt would fetch it. */
export interface KernelPackage {
  name: string;
  kernelVersion: string;
  /** The .deb's file name, version included: what the unpacked kernel is cached by. */
  file: string;
  size: number;
  /** apt's checksum of the .deb ("SHA256:…"). */
  hash: string;
}

export interface Steps {
  signal?: AbortSignal | undefined;
  log: (message: string) => void;
}

/** The concrete `linux-image-<version>` package in `apt-cache depends <metapackage>`'s output. */
export function kernelPackageName(dependsOutput: string): string {
  const match = /^\s*\|?Depends:\s*(linux-image-[^\s<>]+)\s*$/m.exec(dependsOutput);
  if (!match?.[1]) {
    throw new AgentError(
      Code.NOT_FOUND,
      `apt names no linux-image package among ${KERNEL_METAPACKAGE}'s dependencies: ${JSON.stringify(dependsOutput.trim())}`,
    );
  }
  return match[1];
}

/** `linux-image-6.1.0-57-amd64` → `6.1.0-57-amd64`. */
export function kernelVersionOf(packageName: string): string {
  return packageName.replace(/^linux-image-/, "");
}

/**
 * The .deb's file name, size and checksum from `apt-cache show --no-all-versions` (the candidate). Not
 * `apt-get download --print-uris`: that prints nothing when the current directory already holds the file.
 */
export function downloadOf(showOutput: string): Pick<KernelPackage, "file" | "size" | "hash"> {
  const field = (name: string) => new RegExp(`^${name}: (\\S+)$`, "m").exec(showOutput)?.[1];
  const filename = field("Filename");
  const size = field("Size");
  const sha256 = field("SHA256");
  if (!filename?.endsWith(".deb") || !size || !/^\d+$/.test(size) || !sha256) {
    throw new AgentError(
      Code.NOT_FOUND,
      `apt-cache show names no .deb with its size and SHA256: ${JSON.stringify(showOutput.trim().slice(0, 500))}`,
    );
  }
  return {
    file: filename.slice(filename.lastIndexOf("/") + 1),
    size: Number(size),
    hash: `SHA256:${sha256}`,
  };
}

const APT_AS_ROOT = ["-o", "APT::Sandbox::User=root"];

async function resolve(steps: Steps): Promise<KernelPackage> {
  const depends = await runCommand(["apt-cache", "depends", KERNEL_METAPACKAGE], {
    signal: steps.signal,
    timeoutMs: 60_000,
  });
  const name = kernelPackageName(depends.stdout);
  const shown = await runCommand(["apt-cache", "show", "--no-all-versions", name], {
    signal: steps.signal,
    timeoutMs: 60_000,
  });
  return { name, kernelVersion: kernelVersionOf(name), ...downloadOf(shown.stdout) };
}

/**
 * Runs `work`; when apt fails in it (no package lists yet, or lists so old the mirror no longer has their
 * files), updates the lists once and runs it again.
 */
async function withFreshLists<T>(steps: Steps, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    const apt = error instanceof CommandError && /^apt/.test(error.argv[0] ?? "");
    if (!apt || error.code === Code.CANCELLED) throw error;
    steps.log(`apt failed (${error.message}); updating the package lists once`);
    await runCommand(["apt-get", "update"], { signal: steps.signal, timeoutMs: 300_000 }).catch(
      (updateError: unknown) => {
        throw AgentError.wrap(updateError, `${error.message}; and updating the package lists failed`);
      },
    );
    return work();
  }
}

/** The kernel package the metapackage depends on today (apt's candidate). */
export function resolveKernelPackage(steps: Steps): Promise<KernelPackage> {
  return withFreshLists(steps, () => resolve(steps));
}

/** Where `pkg`'s unpacked tree is kept: by its file name, so another version is another directory. */
export function kernelTreeDir(cacheDir: string, pkg: KernelPackage): string {
  return join(cacheDir, "kernels", pkg.file.replace(/\.deb$/, ""));
}

/** The kernel image in an unpacked tree. */
export const vmlinuzIn = (tree: string, pkg: KernelPackage) =>
  join(tree, "boot", `vmlinuz-${pkg.kernelVersion}`);

/**
 * `pkg` unpacked (`dpkg-deb -x`, nothing installed) with a modules.dep made for it, in the cache: downloaded
 * and unpacked the first time only, into a temporary directory renamed into place when complete.
 */
export async function unpackedKernel(cacheDir: string, pkg: KernelPackage, steps: Steps): Promise<string> {
  const tree = kernelTreeDir(cacheDir, pkg);
  if (await pathExists(vmlinuzIn(tree, pkg))) return tree;
  const work = await mkdtemp(join(cacheDir, buildDirPrefix()));
  try {
    const deb = join(work, pkg.file);
    await withFreshLists(steps, async () => {
      steps.log(`downloading ${pkg.file} (${(pkg.size / 2 ** 20).toFixed(1)} MiB)`);
      await runCommand(["apt-get", ...APT_AS_ROOT, "download", pkg.name], {
        cwd: work,
        signal: steps.signal,
        timeoutMs: 600_000,
      });
      const size = (await stat(deb)).size;
      if (size !== pkg.size) {
        throw new AgentError(Code.DATA_LOSS, `${deb} has ${size} bytes, apt announced ${pkg.size}`);
      }
    });
    const root = join(work, "root");
    await runCommand(["dpkg-deb", "-x", deb, root], { signal: steps.signal, timeoutMs: 300_000 });
    await rm(deb);
    await runCommand(["depmod", "-b", root, pkg.kernelVersion], { signal: steps.signal, timeoutMs: 120_000 });
    if (!(await pathExists(vmlinuzIn(root, pkg)))) {
      throw new AgentError(Code.NOT_FOUND, `${pkg.file} has no boot/vmlinuz-${pkg.kernelVersion}`);
    }
    await mkdir(join(cacheDir, "kernels"), { recursive: true });
    await rename(root, tree).catch(async (error: unknown) => {
      if (!(await pathExists(vmlinuzIn(tree, pkg)))) throw error;
    });
    return tree;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** Removes every unpacked kernel but `keep`'s. */
export async function removeOtherKernels(cacheDir: string, keep: KernelPackage): Promise<void> {
  const dir = join(cacheDir, "kernels");
  const kept = kernelTreeDir(cacheDir, keep);
  const names = await readdir(dir).catch(() => []);
  await Promise.all(
    names
      .map((n) => join(dir, n))
      .filter((p) => p !== kept)
      .map((p) => rm(p, { recursive: true, force: true })),
  );
}
