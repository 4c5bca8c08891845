import { mkdir, readFile } from "node:fs/promises";
import type { Logger } from "../log.js";
import { currentMounts, mount } from "../sys/mount.js";
import { native } from "../sys/native.js";
import { loadBootModules } from "./boot-modules.js";
import { cgroupMounts, enabledControllers, INIT_MOUNTS, type InitMount } from "./init-mounts.js";

/** What PID 1 does when the agent is done: power the VM off (Kata), reboot it, or just exit (tests). */
export type ShutdownAction = "poweroff" | "reboot" | "exit";

const INIT_PATH = "/bin:/sbin:/usr/bin:/usr/sbin";

/** Mounts what is not there yet (and the `always` ones regardless); the targets mounted, in order. */
async function mountAll(mounts: readonly InitMount[]): Promise<string[]> {
  // Read once the mounts that always go first are in: a fresh guest has no /proc before it.
  let present: Set<string> | undefined;
  const mounted: string[] = [];
  for (const m of mounts) {
    if (!m.always) {
      present ??= new Set((await currentMounts()).map((p) => `${p.fsType} ${p.mountPoint}`));
      if (present.has(`${m.fsType} ${m.target}`)) continue;
    }
    await mkdir(m.target, { recursive: true });
    await mount(m.source, m.target, m.fsType, m.options);
    mounted.push(m.target);
  }
  return mounted;
}

/**
 * The first thing PID 1 does, before it reads its configuration: /proc (always, so it shows this PID
 * namespace; the kernel command line is read from it), /sys, /dev, /dev/shm, /dev/pts and /run, each
 * unless already there. Returns the targets mounted, for the log that does not exist yet.
 */
export function mountInitFilesystems(): Promise<string[]> {
  return mountAll(INIT_MOUNTS);
}

/**
 * Sets the rest of the guest up as its init: the cgroup trees (v2 alone when `unifiedCgroups`), PATH, the
 * modules of /etc/modules-load.d, the hostname from /etc/hostname, and the loopback interface up. Orphans
 * are reaped by the Reaper, as in service mode.
 */
export async function initGuest(unifiedCgroups: boolean, log: Logger): Promise<void> {
  const controllers = enabledControllers(await readFile("/proc/cgroups", "utf8").catch(() => ""));
  const cgroups = await mountAll(cgroupMounts(controllers, unifiedCgroups));
  log.debug({ targets: cgroups }, "mounted the cgroup trees");
  process.env.PATH ||= INIT_PATH;
  await loadBootModules(log);
  const hostname = (await readFile("/etc/hostname", "utf8").catch(() => "")).trim();
  if (hostname) native().setHostname(hostname);
  native().interfaceUp("lo");
  log.info({ hostname: hostname || undefined }, "guest initialised as PID 1");
}

/** Ends the guest: sync and power off or reboot; "exit" returns and lets the process end. */
export function shutdownGuest(action: ShutdownAction, log: Logger): void {
  if (action === "exit") return;
  log.info({ action }, "shutting the guest down");
  log.flush();
  native().shutdown(action);
}
