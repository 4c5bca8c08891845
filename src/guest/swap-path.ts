import { open, realpath, stat } from "node:fs/promises";
import { posix } from "node:path";
import { type BlockContext, mmioBlkAt } from "../device/block-devices.js";
import { AgentError, Code } from "../errors.js";
import { CommandError, runCommand } from "../sys/exec.js";
import { enableSwap, type SwapArea } from "./swap.js";

const PROBE_TIMEOUT_MS = 10_000;
const MKSWAP_TIMEOUT_MS = 60_000;
/** mkswap writes one page of header; 64 KiB is a page on every architecture Kata runs on. */
const HEADER_BYTES = 64 * 1024;

export interface SwapPathContext extends BlockContext {
  readonly procfs: string;
}

/** What libblkid finds at `path`: a type ("swap", "ext4", …), or undefined when it finds no signature. */
async function signatureAt(path: string, signal?: AbortSignal): Promise<string | undefined> {
  try {
    const { stdout } = await runCommand(["blkid", "-p", "-o", "value", "-s", "TYPE", path], {
      timeoutMs: PROBE_TIMEOUT_MS,
      signal,
    });
    return stdout.trim() || "an unnamed";
  } catch (error) {
    if (error instanceof CommandError && error.exitCode === 2) return undefined;
    throw AgentError.wrap(error, `cannot tell what ${path} holds`);
  }
}

async function readHeader(path: string): Promise<Buffer> {
  const file = await open(path, "r");
  try {
    const buffer = Buffer.alloc(HEADER_BYTES);
    const { bytesRead } = await file.read(buffer, 0, HEADER_BYTES, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await file.close();
  }
}

async function writeHeader(path: string, header: Buffer): Promise<void> {
  const file = await open(path, "r+");
  try {
    await file.write(header, 0, header.length, 0);
  } finally {
    await file.close();
  }
}

/** The swap area's real path: a block device or a regular file, awaited when it is a device node not there yet. */
async function swapTarget(ctx: SwapPathContext, path: string): Promise<string> {
  if (!path.startsWith("/") || posix.normalize(path) !== path) {
    throw new AgentError(
      Code.INVALID_ARGUMENT,
      `swap path ${JSON.stringify(path)} is not an absolute, normal path`,
    );
  }
  if (path.startsWith("/dev/")) await mmioBlkAt(ctx, path);
  let real: string;
  try {
    real = await realpath(path);
  } catch (error) {
    throw AgentError.wrap(error, `swap path ${path}`);
  }
  const st = await stat(real);
  if (!st.isBlockDevice() && !st.isFile()) {
    throw new AgentError(
      Code.FAILED_PRECONDITION,
      `swap path ${path} is neither a block device nor a regular file: it cannot hold swap`,
    );
  }
  return real;
}

/**
 * AddSwapPath: swap on a block device by node (a virtio-mmio disk that has no PCI path, awaited as AddSwap
 * awaits its disk; Kata's agent does not wait, so runtime-rs sleeps a second first) or on a regular file.
 * An area that is not formatted yet is formatted with mkswap, but only when it holds no signature at all:
 * a filesystem is never overwritten. When enabling fails, the header mkswap replaced is written back.
 */
export async function addSwapPath(ctx: SwapPathContext, path: string): Promise<SwapArea> {
  const target = await swapTarget(ctx, path);
  const found = await signatureAt(target, ctx.signal);
  if (found !== undefined && found !== "swap") {
    throw new AgentError(
      Code.FAILED_PRECONDITION,
      `swap path ${path} holds ${found} signature: refusing to format it as swap`,
    );
  }
  if (found === "swap") return enableSwap(target, ctx.procfs, ctx.signal);
  const header = await readHeader(target);
  try {
    await runCommand(["mkswap", target], { timeoutMs: MKSWAP_TIMEOUT_MS, signal: ctx.signal });
    return await enableSwap(target, ctx.procfs, ctx.signal);
  } catch (error) {
    const failure = AgentError.wrap(error, `cannot make ${path} swap`);
    await writeHeader(target, header).catch((undo: unknown) => {
      throw new AgentError(
        failure.code,
        `${failure.message}; and its first ${header.length} bytes could not be restored: ${AgentError.from(undo).message}`,
        { cause: error },
      );
    });
    throw failure;
  }
}
