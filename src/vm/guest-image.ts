import { copyFile, mkdir, mkdtemp, readdir, rename, rm, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { throwIfAborted } from "../sys/abort.js";
import { pathExists } from "../sys/path-exists.js";
import { buildDirPrefix, removeAbandonedBuilds } from "./build-dirs.js";
import { FileHashes } from "./file-hashes.js";
import { hostSources, userlandEntries } from "./guest-userland.js";
import {
  completeTree,
  type FileDigest,
  type ImageEntry,
  imageManifest,
  manifestKey,
} from "./image-manifest.js";
import { treeEntries, writeInitrd } from "./initrd.js";
import { GUEST_MODULES, moduleClosure, moduleDirIn, stageModules } from "./kernel-modules.js";
import {
  type KernelPackage,
  removeOtherKernels,
  resolveKernelPackage,
  type Steps,
  unpackedKernel,
  vmlinuzIn,
} from "./kernel-package.js";

/** Where images are kept unless told: `$XDG_CACHE_HOME/berth-vm`, else `~/.cache/berth-vm`. */
export function defaultCacheDir(env: NodeJS.ProcessEnv): string {
  return join(env.XDG_CACHE_HOME || join(homedir(), ".cache"), "berth-vm");
}

export interface GuestImageOptions {
  /** Where images, the unpacked kernel and the file-hash index are kept. */
  cacheDir: string;
  /** A built berth checkout (dist/ and build/Release/). */
  packageDir: string;
  log?: (message: string) => void;
  signal?: AbortSignal;
}

/** A bootable guest: a bzImage and an uncompressed newc cpio initrd with berth as /init. */
export interface GuestImage {
  kernel: string;
  initrd: string;
  kernelVersion: string;
  /** The hash of every input, naming the image's directory in the cache. */
  key: string;
  /** Whether the image was in the cache already (nothing was built). */
  cached: boolean;
}

const KEY = /^[0-9a-f]{64}$/;
const KERNEL_FILE = "vmlinuz";
const INITRD_FILE = "initrd.cpio";

const seconds = (since: number) => `${((performance.now() - since) / 1000).toFixed(1)} s`;

async function removeOtherImages(cacheDir: string, key: string): Promise<void> {
  const names = await readdir(cacheDir);
  await Promise.all(
    names
      .filter((n) => KEY.test(n) && n !== key)
      .map((n) => rm(join(cacheDir, n), { recursive: true, force: true })),
  );
}

/** Builds the image of `entries` with `pkg`'s kernel and modules into the new directory `out`. */
async function buildInto(
  out: string,
  work: string,
  cacheDir: string,
  pkg: KernelPackage,
  entries: readonly ImageEntry[],
  steps: Steps,
): Promise<number> {
  const tree = await unpackedKernel(cacheDir, pkg, steps);
  const kv = pkg.kernelVersion;
  const modules = await moduleClosure(tree, kv, GUEST_MODULES, steps.signal);
  const stage = join(work, "modules");
  await stageModules(tree, kv, modules, stage, steps.signal);
  const moduleEntries = await treeEntries(stage, moduleDirIn("", kv));
  await mkdir(out);
  await copyFile(vmlinuzIn(tree, pkg), join(out, KERNEL_FILE));
  steps.log(`writing the initrd (${modules.length} kernel modules)`);
  return writeInitrd(completeTree([...entries, ...moduleEntries]), join(out, INITRD_FILE), steps.signal);
}

/**
 * The guest image for today's Debian kernel (`linux-image-amd64`'s) and this host's busybox, node, runc,
 * resize2fs and the berth in `packageDir`: taken from the cache when none of its inputs changed, else built
 * (kernel downloaded and unpacked once per package version) in a temporary directory and renamed into
 * place, so neither a concurrent nor an interrupted build leaves a half-made image. Only the newest image
 * and kernel are kept.
 */
export async function buildGuestImage(options: GuestImageOptions): Promise<GuestImage> {
  const started = performance.now();
  const cacheDir = resolve(options.cacheDir);
  const steps: Steps = { signal: options.signal, log: options.log ?? (() => {}) };
  await mkdir(cacheDir, { recursive: true });
  await removeAbandonedBuilds(cacheDir, steps.log);

  const pkg = await resolveKernelPackage(steps);
  const entries = await userlandEntries(
    hostSources(resolve(options.packageDir)),
    pkg.kernelVersion,
    GUEST_MODULES,
    steps.signal,
  );
  const hashes = await FileHashes.load(join(cacheDir, "file-hashes.json"));
  const digests = new Map<string, FileDigest>();
  for (const entry of entries) {
    throwIfAborted(steps.signal);
    if (entry.type === "file") digests.set(entry.source, await hashes.digest(entry.source));
  }
  await hashes.save();
  const manifest = imageManifest(pkg, GUEST_MODULES, entries, digests);
  const key = manifestKey(manifest);
  const dir = join(cacheDir, key);
  const image = {
    kernel: join(dir, KERNEL_FILE),
    initrd: join(dir, INITRD_FILE),
    kernelVersion: pkg.kernelVersion,
    key,
  };

  const cached = await pathExists(image.initrd);
  if (cached) {
    steps.log(
      `guest image ${key.slice(0, 12)} is cached (${hashes.hashed} files hashed, ${seconds(started)})`,
    );
  } else {
    steps.log(`building guest image ${key.slice(0, 12)} (kernel ${pkg.file})`);
    const work = await mkdtemp(join(cacheDir, buildDirPrefix()));
    try {
      const out = join(work, "image");
      const size = await buildInto(out, work, cacheDir, pkg, entries, steps);
      await writeFile(join(out, "manifest.json"), `${JSON.stringify(manifest, null, 1)}\n`);
      await rename(out, dir).catch(async (error: unknown) => {
        if (!(await pathExists(image.initrd))) throw error;
      });
      steps.log(
        `built guest image ${key.slice(0, 12)}: ${(size / 2 ** 20).toFixed(1)} MiB initrd in ${seconds(started)}`,
      );
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }
  await removeOtherImages(cacheDir, key);
  await removeOtherKernels(cacheDir, pkg);
  return { ...image, cached };
}
