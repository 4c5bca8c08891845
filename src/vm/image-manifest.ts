import { createHash } from "node:crypto";
import { AgentError, Code } from "../errors.js";

/** One path of the guest image (relative to its root): what it is and where its bytes come from. */
export type ImageEntry =
  | { type: "directory"; path: string; mode: number }
  | { type: "symlink"; path: string; target: string }
  | { type: "file"; path: string; mode: number; source: string }
  | { type: "text"; path: string; mode: number; text: string };

export interface FileDigest {
  size: number;
  sha256: string;
}

export interface KernelInput {
  /** The kernel package's file name (its version in it). */
  file: string;
  /** apt's checksum of it: the modules copied from it are known by this. */
  hash: string;
}

/** Everything a guest image is made of; its hash is the image's cache key. */
export interface ImageManifest {
  /** Bumped when the builder lays the image out differently from the same inputs. */
  format: number;
  kernel: KernelInput;
  modules: readonly string[];
  entries: readonly ManifestEntry[];
}

export type ManifestEntry = ImageEntry | (Extract<ImageEntry, { type: "file" }> & FileDigest);

export const IMAGE_FORMAT = 1;

function checkPath(path: string): void {
  const parts = path.split("/");
  if (path === "" || parts.some((p) => p === "" || p === "." || p === "..") || path.includes("\0")) {
    throw new AgentError(Code.INVALID_ARGUMENT, `${JSON.stringify(path)} is not a path inside the image`);
  }
}

const same = (a: ImageEntry, b: ImageEntry) => JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));

/**
 * `entries` with each missing parent directory added (mode 0755), sorted so that a directory comes before
 * what it holds. The same entry twice is kept once; two different ones for a path, or a path beneath
 * something that is not a directory, are refused.
 */
export function completeTree(entries: readonly ImageEntry[]): ImageEntry[] {
  const byPath = new Map<string, ImageEntry>();
  for (const entry of entries) {
    checkPath(entry.path);
    const known = byPath.get(entry.path);
    if (known && !same(known, entry)) {
      throw new AgentError(Code.ALREADY_EXISTS, `the image has two different entries for ${entry.path}`);
    }
    byPath.set(entry.path, entry);
  }
  for (const path of [...byPath.keys()]) {
    const parts = path.split("/");
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i).join("/");
      const known = byPath.get(parent);
      if (!known) byPath.set(parent, { type: "directory", path: parent, mode: 0o755 });
      else if (known.type !== "directory") {
        throw new AgentError(Code.INVALID_ARGUMENT, `${path} would be beneath ${parent}, a ${known.type}`);
      }
    }
  }
  return [...byPath.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** An entry with its keys in one fixed order, so that equal entries hash equal. */
function canonical(entry: ManifestEntry): ManifestEntry {
  switch (entry.type) {
    case "directory":
      return { type: entry.type, path: entry.path, mode: entry.mode };
    case "symlink":
      return { type: entry.type, path: entry.path, target: entry.target };
    case "text":
      return { type: entry.type, path: entry.path, mode: entry.mode, text: entry.text };
    case "file":
      return "sha256" in entry
        ? {
            type: entry.type,
            path: entry.path,
            mode: entry.mode,
            source: entry.source,
            size: entry.size,
            sha256: entry.sha256,
          }
        : { type: entry.type, path: entry.path, mode: entry.mode, source: entry.source };
  }
}

/** The manifest of an image made of `entries` (completed), each file's digest looked up by its source. */
export function imageManifest(
  kernel: KernelInput,
  modules: readonly string[],
  entries: readonly ImageEntry[],
  digests: ReadonlyMap<string, FileDigest>,
): ImageManifest {
  return {
    format: IMAGE_FORMAT,
    kernel: { file: kernel.file, hash: kernel.hash },
    modules: [...modules],
    entries: completeTree(entries).map((entry) => {
      if (entry.type !== "file") return canonical(entry);
      const digest = digests.get(entry.source);
      if (!digest) throw new AgentError(Code.INTERNAL, `no digest of ${entry.source} for ${entry.path}`);
      return canonical({ ...entry, size: digest.size, sha256: digest.sha256 });
    }),
  };
}

/** The cache key of an image: the SHA-256 (hex) of its manifest's JSON. */
export function manifestKey(manifest: ImageManifest): string {
  return createHash("sha256").update(JSON.stringify(manifest)).digest("hex");
}
