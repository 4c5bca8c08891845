import type { Hook, Linux, LinuxNamespace, LinuxResources, Spec } from "../oci/oci-spec.js";
import { formatCpuList, parseCpuList } from "../sys/cpus.js";
import type { GuestHooks } from "./guest-hooks.js";

/*
 * The agent's edits to a container's OCI spec before it is written to the bundle. Each edit changes,
 * in place, the spec it is given: the caller owns that spec (a fresh conversion from the wire) and
 * passes it through the edits in turn. Pure: no I/O; values from the guest (online CPUs, namespace
 * files, guest hooks) are arguments.
 */

/** Whether the spec asks for a PID namespace (the runtime should have stripped it: the agent decides). */
export function hasPidNamespace(spec: Spec): boolean {
  return spec.linux?.namespaces?.some((ns) => ns.type === "pid") ?? false;
}

/** Namespace files a container joins: the sandbox's IPC and UTS, and its PID namespace when shared. */
export interface SandboxNamespaces {
  ipc: string;
  uts: string;
  /** The sandbox's PID namespace to join; absent or undefined: the container gets a new one. */
  pid?: string | undefined;
}

/**
 * Points the spec's IPC and UTS namespaces at the sandbox's files and adds a PID namespace entry: the
 * shared one when `ns.pid` is given, else a new one. Any IPC, UTS or PID entries the spec had are
 * replaced (one entry per type); the others (mount, cgroup, ...) are kept in order.
 */
export function joinSandboxNamespaces(spec: Spec, ns: SandboxNamespaces): void {
  const linux = linuxOf(spec);
  const replaced = new Set(["ipc", "uts", "pid"]);
  const pid: LinuxNamespace = ns.pid === undefined ? { type: "pid" } : { type: "pid", path: ns.pid };
  linux.namespaces = [
    ...(linux.namespaces ?? []).filter((entry) => !replaced.has(entry.type)),
    { type: "ipc", path: ns.ipc },
    { type: "uts", path: ns.uts },
    pid,
  ];
}

/**
 * Removes every `net.*` sysctl from the spec and returns them. Containers share the VM's network
 * namespace, so (like Kata's Go agent) the agent writes these to the guest itself; runc would refuse
 * them for a container without its own network namespace.
 */
export function takeNetSysctls(spec: Spec): Record<string, string> {
  const sysctl = spec.linux?.sysctl;
  const taken: Record<string, string> = {};
  if (!sysctl) return taken;
  for (const [key, value] of Object.entries(sysctl)) {
    // sysctl(8) and runc also accept the slash form ("net/ipv4/ip_forward").
    if (key.startsWith("net.") || key.startsWith("net/")) {
      taken[key] = value;
      delete sysctl[key];
    }
  }
  return taken;
}

/**
 * Limits the container's cpuset (`linux.resources.cpu.cpus`) to the guest's online CPUs (cpulist
 * format). Best effort, like Kata's Go agent: the host may name vCPUs that are not (yet) online, e.g.
 * before a hotplug. When none of the requested CPUs is online the member is dropped, so the container
 * runs on every online CPU rather than failing (an empty cpuset would make runc's create fail).
 */
export function restrictCpus(spec: Spec, onlineCpus: string): void {
  const cpu = spec.linux?.resources?.cpu;
  if (!cpu?.cpus) return;
  const kept = onlineSubset(cpu.cpus, onlineCpus);
  if (kept === "") delete cpu.cpus;
  else cpu.cpus = kept;
}

/**
 * The resources UpdateContainer applies, with the cpuset limited to online CPUs as {@link restrictCpus}
 * does; when none of the CPUs is online the container gets every online CPU (what it would run on had
 * it been created with that cpuset), not the cpuset it had. Returns a copy; `resources` is not changed.
 */
export function restrictUpdateCpus(resources: LinuxResources, onlineCpus: string): LinuxResources {
  const cpu = resources.cpu;
  if (!cpu?.cpus) return resources;
  const cpus = onlineSubset(cpu.cpus, onlineCpus) || formatCpuList(parseCpuList(onlineCpus));
  return { ...resources, cpu: { ...cpu, cpus } };
}

/** The CPUs of cpulist `cpus` that are in cpulist `onlineCpus`, as a cpulist ("" for none). */
function onlineSubset(cpus: string, onlineCpus: string): string {
  const online = new Set(parseCpuList(onlineCpus));
  return formatCpuList(parseCpuList(cpus).filter((n) => online.has(n)));
}

/**
 * Appends the sandbox's guest hooks to the spec's hooks of the same type, after the spec's own, as
 * Kata's Go agent does. (Kata's Rust agent appends guest prestart hooks to the spec's *poststart* list
 * when the spec already has hooks, so they run after the container starts: a bug not copied here.)
 * The hooks are copied, so the spec shares nothing with the sandbox's list.
 */
export function mergeGuestHooks(spec: Spec, hooks: GuestHooks): void {
  for (const type of ["prestart", "poststart", "poststop"] as const) {
    const guest = hooks[type];
    if (guest.length === 0) continue;
    spec.hooks ??= {};
    spec.hooks[type] = [...(spec.hooks[type] ?? []), ...guest.map(copyHook)];
  }
}

function copyHook(hook: Hook): Hook {
  return {
    path: hook.path,
    ...(hook.args ? { args: [...hook.args] } : {}),
    ...(hook.env ? { env: [...hook.env] } : {}),
    ...(hook.timeout === undefined ? {} : { timeout: hook.timeout }),
  };
}

function linuxOf(spec: Spec): Linux {
  spec.linux ??= {};
  return spec.linux;
}

/** Points the spec at the container's rootfs in its bundle, keeping the readonly flag. */
export function setRootfs(spec: Spec, path: string): void {
  spec.root = { path, ...(spec.root?.readonly === undefined ? {} : { readonly: spec.root.readonly }) };
}
