import { realpath, stat } from "node:fs/promises";
import { join } from "node:path";
import { runCommand } from "../sys/exec.js";
import { BERTH_BINARIES, BERTH_IN_IMAGE, BERTH_LAUNCHER, berthFiles } from "./berth-files.js";
import type { ImageEntry } from "./image-manifest.js";
import { moduleDirIn } from "./kernel-modules.js";
import { sharedLibraries } from "./shared-libraries.js";

/** The host files the guest's programs come from. */
export interface UserlandSources {
  /** A built berth checkout. */
  packageDir: string;
  node: string;
  runc: string;
  /** Debian's busybox-static (a dynamically linked one would bring its libraries). */
  busybox: string;
  /** e2fsprogs' resize2fs, with which ResizeVolume grows ext4 volumes. */
  resize2fs: string;
}

export const hostSources = (packageDir: string): UserlandSources => ({
  packageDir,
  node: process.execPath,
  runc: "/usr/sbin/runc",
  busybox: "/bin/busybox",
  resize2fs: "/usr/sbin/resize2fs",
});

const inImage = (absolute: string) => absolute.replace(/^\/+/, "");

async function file(path: string, source: string): Promise<ImageEntry> {
  const real = await realpath(source);
  return { type: "file", path, mode: (await stat(real)).mode & 0o7777, source: real };
}

const text = (path: string, content: string): ImageEntry => ({
  type: "text",
  path,
  mode: 0o644,
  text: content,
});
const directory = (path: string, mode = 0o755): ImageEntry => ({ type: "directory", path, mode });

/** A link to busybox for each of its applets (`busybox --list-full`), /sbin/modprobe among them. */
async function appletLinks(busybox: string, signal?: AbortSignal): Promise<ImageEntry[]> {
  const { stdout } = await runCommand([busybox, "--list-full"], { signal, timeoutMs: 10_000 });
  return stdout
    .split("\n")
    .map((line) => line.trim())
    .filter((path) => path !== "" && path !== "bin/busybox")
    .map((path) => ({ type: "symlink", path, target: "/bin/busybox" }));
}

/**
 * Everything of the guest image but the kernel modules: busybox and its applets, node, runc and resize2fs
 * with the libraries they load, berth under /usr/lib/berth with /init linked to its launcher, the base directories,
 * root's passwd and group lines, and the list of modules for berth to load at start.
 */
export async function userlandEntries(
  sources: UserlandSources,
  kernelVersion: string,
  modules: readonly string[],
  signal?: AbortSignal,
): Promise<ImageEntry[]> {
  const berth = (await berthFiles(sources.packageDir)).map((rel) => ({
    path: `${BERTH_IN_IMAGE}/${rel}`,
    source: join(sources.packageDir, rel),
  }));
  const programs = [
    { path: "bin/busybox", source: sources.busybox },
    { path: "usr/bin/node", source: sources.node },
    { path: "usr/sbin/runc", source: sources.runc },
    { path: "usr/sbin/resize2fs", source: sources.resize2fs },
  ];
  const binaries = [
    ...programs.map((p) => p.source),
    ...BERTH_BINARIES.map((b) => join(sources.packageDir, b)),
  ];
  const libraries = new Set<string>();
  for (const binary of binaries) {
    for (const library of await sharedLibraries(binary, signal)) libraries.add(library);
  }
  const files = await Promise.all(
    [...programs, ...berth, ...[...libraries].map((l) => ({ path: inImage(l), source: l }))].map((f) =>
      file(f.path, f.source),
    ),
  );
  return [
    ...files,
    ...(await appletLinks(sources.busybox, signal)),
    { type: "symlink", path: "init", target: `/${BERTH_LAUNCHER}` },
    ...["dev", "etc", "mnt", "run", "var"].map((d) => directory(d)),
    directory("proc", 0o555),
    directory("sys", 0o555),
    directory("root", 0o700),
    directory("tmp", 0o1777),
    directory(inImage(moduleDirIn("/", kernelVersion))),
    { type: "symlink", path: "var/run", target: "/run" },
    text("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"),
    text("etc/group", "root:x:0:\n"),
    text("etc/modules-load.d/berth.conf", `${modules.join("\n")}\n`),
  ];
}
