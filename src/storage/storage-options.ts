import { AgentError, Code } from "../errors.js";

/** Kata's own options ride along with mount options; the kernel must never see them. */
const KATA_OPTION_PREFIX = "io.katacontainers.";

/** Every option as its own entry: comma lists split, blanks dropped. */
export function splitOptions(options: readonly string[]): string[] {
  return options
    .flatMap((o) => o.split(","))
    .map((o) => o.trim())
    .filter((o) => o.length > 0);
}

/** The value of the last `key=value` option, or undefined. */
export function optionValue(options: readonly string[], key: string): string | undefined {
  const prefix = `${key}=`;
  return splitOptions(options)
    .filter((o) => o.startsWith(prefix))
    .at(-1)
    ?.slice(prefix.length);
}

export function hasOption(options: readonly string[], name: string): boolean {
  return splitOptions(options).includes(name);
}

/** The options for mount(2): without Kata's `io.katacontainers.*` ones and without `key=` for each `dropKeys`. */
export function kernelOptions(options: readonly string[], dropKeys: readonly string[] = []): string[] {
  return splitOptions(options).filter(
    (o) => !o.startsWith(KATA_OPTION_PREFIX) && !dropKeys.some((key) => o.startsWith(`${key}=`)),
  );
}

const invalidOption = (option: string, why: string) =>
  new AgentError(Code.INVALID_ARGUMENT, `storage option ${JSON.stringify(option)} ${why}`);

function decimal(key: string, value: string, max: number): number {
  const n = /^\d{1,16}$/.test(value) ? Number(value) : Number.NaN;
  if (!(n <= max)) throw invalidOption(`${key}=${value}`, `is not a whole number up to ${max}`);
  return n;
}

/** `mode=0NNN` (octal, as Kata's local storage takes it), or undefined when absent. */
export function parseMode(options: readonly string[]): number | undefined {
  const value = optionValue(options, "mode");
  if (value === undefined) return undefined;
  if (!/^0?[0-7]{1,4}$/.test(value)) throw invalidOption(`mode=${value}`, "is not an octal mode up to 07777");
  return Number.parseInt(value, 8);
}

/** `fsgid=N`: the group the storage's root should belong to (with the setgid bit), or undefined. */
export function parseFsGid(options: readonly string[]): number | undefined {
  const value = optionValue(options, "fsgid");
  return value === undefined ? undefined : decimal("fsgid", value, 0xffff_fffe);
}

export interface HugepageRequest {
  /** Bytes per page, as `pagesize=` gives it (2097152 for 2 MiB pages). */
  pageSize: number;
  /** Pages the storage's `size=` needs. */
  pages: number;
}

/** Kata's hugetlbfs options, `pagesize=<bytes>` and `size=<bytes>`, both required. */
export function hugepageRequest(options: readonly string[]): HugepageRequest {
  const pageSize = optionValue(options, "pagesize");
  const size = optionValue(options, "size");
  if (pageSize === undefined || size === undefined) {
    throw new AgentError(
      Code.INVALID_ARGUMENT,
      `hugetlbfs storage needs pagesize=<bytes> and size=<bytes> options, got ${JSON.stringify(options.join(","))}`,
    );
  }
  const page = decimal("pagesize", pageSize, Number.MAX_SAFE_INTEGER);
  if (page < 4096 || page % 1024 !== 0)
    throw invalidOption(`pagesize=${pageSize}`, "is not a page size in bytes");
  return { pageSize: page, pages: Math.floor(decimal("size", size, Number.MAX_SAFE_INTEGER) / page) };
}
