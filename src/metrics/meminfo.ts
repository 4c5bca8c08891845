import { type Item, leadingNumber, parseColonFields } from "./proc-files.js";

/**
 * The 58 items of kata_guest_meminfo, in Kata's order (metrics.rs set_gauge_vec_meminfo), each with the
 * /proc/meminfo line it comes from.
 */
const MEMINFO_ITEMS: readonly (readonly [item: string, key: string])[] = [
  ["mem_total", "MemTotal"],
  ["mem_free", "MemFree"],
  ["mem_available", "MemAvailable"],
  ["buffers", "Buffers"],
  ["cached", "Cached"],
  ["swap_cached", "SwapCached"],
  ["active", "Active"],
  ["inactive", "Inactive"],
  ["active_anon", "Active(anon)"],
  ["inactive_anon", "Inactive(anon)"],
  ["active_file", "Active(file)"],
  ["inactive_file", "Inactive(file)"],
  ["unevictable", "Unevictable"],
  ["mlocked", "Mlocked"],
  ["high_total", "HighTotal"],
  ["high_free", "HighFree"],
  ["low_total", "LowTotal"],
  ["low_free", "LowFree"],
  ["mmap_copy", "MmapCopy"],
  ["swap_total", "SwapTotal"],
  ["swap_free", "SwapFree"],
  ["dirty", "Dirty"],
  ["writeback", "Writeback"],
  ["anon_pages", "AnonPages"],
  ["mapped", "Mapped"],
  ["shmem", "Shmem"],
  ["slab", "Slab"],
  ["s_reclaimable", "SReclaimable"],
  ["s_unreclaim", "SUnreclaim"],
  ["kernel_stack", "KernelStack"],
  ["page_tables", "PageTables"],
  ["quicklists", "Quicklists"],
  ["nfs_unstable", "NFS_Unstable"],
  ["bounce", "Bounce"],
  ["writeback_tmp", "WritebackTmp"],
  ["commit_limit", "CommitLimit"],
  ["committed_as", "Committed_AS"],
  ["vmalloc_total", "VmallocTotal"],
  ["vmalloc_used", "VmallocUsed"],
  ["vmalloc_chunk", "VmallocChunk"],
  ["hardware_corrupted", "HardwareCorrupted"],
  ["anon_hugepages", "AnonHugePages"],
  ["shmem_hugepages", "ShmemHugePages"],
  ["shmem_pmd_mapped", "ShmemPmdMapped"],
  ["cma_total", "CmaTotal"],
  ["cma_free", "CmaFree"],
  ["hugepages_total", "HugePages_Total"],
  ["hugepages_free", "HugePages_Free"],
  ["hugepages_rsvd", "HugePages_Rsvd"],
  ["hugepages_surp", "HugePages_Surp"],
  ["hugepagesize", "Hugepagesize"],
  ["direct_map_4k", "DirectMap4k"],
  ["direct_map_4M", "DirectMap4M"],
  ["direct_map_2M", "DirectMap2M"],
  ["direct_map_1G", "DirectMap1G"],
  ["hugetlb", "Hugetlb"],
  ["per_cpu", "Percpu"],
  ["k_reclaimable", "KReclaimable"],
];

/**
 * /proc/meminfo as Kata's items: kB lines in bytes, the HugePages_ counts as they are, a line this kernel
 * does not have 0. Undefined when the file has no MemTotal (not meminfo).
 */
export function meminfoItems(text: string): Item[] | undefined {
  const fields = parseColonFields(text);
  if (!fields.has("MemTotal")) return undefined;
  return MEMINFO_ITEMS.map(([item, key]) => {
    const field = fields.get(key);
    const value = leadingNumber(field);
    return [item, field?.endsWith(" kB") ? value * 1024 : value];
  });
}
