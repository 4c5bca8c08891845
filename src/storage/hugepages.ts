import { readFile, writeFile } from "node:fs/promises";
import { AgentError, Code } from "../errors.js";
import type { Logger } from "../log.js";
import type { HugepageRequest } from "./storage-options.js";

async function readCount(file: string): Promise<number> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new AgentError(Code.NOT_FOUND, `cannot read ${file}: this kernel has no such hugepage size`, {
      cause: error,
    });
  }
  const count = Number(text.trim());
  if (!Number.isSafeInteger(count))
    throw new AgentError(Code.INTERNAL, `${file} holds ${JSON.stringify(text)}`);
  return count;
}

/**
 * Grows the kernel's pool of hugepages of the requested size to at least the storage's need (as Kata does,
 * via `<sysfs>/kernel/mm/hugepages/hugepages-<kB>kB/nr_hugepages`), and checks the kernel really did: it
 * may allocate fewer. Unlike Kata it never shrinks the pool, which another storage may be using.
 */
export async function allocateHugepages(sysfs: string, request: HugepageRequest, log: Logger): Promise<void> {
  const file = `${sysfs}/kernel/mm/hugepages/hugepages-${request.pageSize / 1024}kB/nr_hugepages`;
  const before = await readCount(file);
  if (before >= request.pages) return;
  await writeFile(file, String(request.pages));
  const after = await readCount(file);
  log.info({ file, requested: request.pages, before, after }, "hugepages allocated");
  if (after < request.pages) {
    throw new AgentError(
      Code.RESOURCE_EXHAUSTED,
      `only ${after} of ${request.pages} hugepages of ${request.pageSize} bytes could be allocated (${file})`,
    );
  }
}
