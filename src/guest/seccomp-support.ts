import { readFile } from "node:fs/promises";

/** What berth reads of `runc features` (runc ≥ 1.1). */
interface RuncFeatures {
  linux?: { seccomp?: { enabled?: unknown } };
}

/**
 * Whether a container's seccomp filter can be applied. runc applies it, so runc must be built with
 * libseccomp (`runc features`: linux.seccomp.enabled), and the kernel must have seccomp filters
 * (CONFIG_SECCOMP_FILTER): /proc/sys/kernel/seccomp/actions_avail exists only then and lists the actions,
 * and runc's filters need at least `errno` and `allow`. The `Seccomp:` line of /proc/self/status is not
 * enough: it appears with strict mode (CONFIG_SECCOMP) alone.
 */
export function seccompSupported(runcFeatures: unknown, actionsAvail: string | undefined): boolean {
  const enabled = (runcFeatures as RuncFeatures | null)?.linux?.seccomp?.enabled === true;
  const actions = new Set((actionsAvail ?? "").split(/\s+/));
  return enabled && actions.has("errno") && actions.has("allow");
}

/** Asks runc and the kernel (see seccompSupported); a runc that cannot say is an error, for the caller to judge. */
export async function probeSeccompSupport(
  runc: { features(): Promise<unknown> },
  procfs: string,
): Promise<boolean> {
  const actions = await readFile(`${procfs}/sys/kernel/seccomp/actions_avail`, "utf8").catch(() => undefined);
  if (actions === undefined) return false;
  return seccompSupported(await runc.features(), actions);
}
