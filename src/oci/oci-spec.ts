/**
 * The OCI runtime-spec `config.json` (v1.1, Linux parts), with runtime-spec's JSON member names.
 * Members the spec marks REQUIRED are non-optional here; everything else is optional and, with
 * `exactOptionalPropertyTypes`, absent rather than `undefined`. runtime-spec's 64-bit members are
 * {@link Int64}: exact, whatever their size (serialise with `specToJson`, not `JSON.stringify`).
 */

/**
 * A 64-bit integer member (int64 or uint64 in runtime-spec): a number while it is a safe integer, a
 * bigint beyond ±(2^53-1), so that values such as RLIM_INFINITY (18446744073709551615) stay exact.
 */
export type Int64 = number | bigint;

/** The whole `config.json`. */
export interface Spec {
  ociVersion: string;
  process?: Process;
  root?: Root;
  hostname?: string;
  domainname?: string;
  mounts?: Mount[];
  hooks?: Hooks;
  annotations?: Record<string, string>;
  linux?: Linux;
}

/** The container's (or an exec'd) process. */
export interface Process {
  terminal?: boolean;
  consoleSize?: Box;
  user: User;
  args?: string[];
  commandLine?: string;
  env?: string[];
  cwd: string;
  capabilities?: LinuxCapabilities;
  rlimits?: POSIXRlimit[];
  noNewPrivileges?: boolean;
  apparmorProfile?: string;
  oomScoreAdj?: Int64;
  scheduler?: Scheduler;
  selinuxLabel?: string;
  ioPriority?: LinuxIOPriority;
}

/** A terminal size in characters. */
export interface Box {
  height: number;
  width: number;
}

/** The process's credentials. */
export interface User {
  uid: number;
  gid: number;
  umask?: number;
  additionalGids?: number[];
  username?: string;
}

/** Capability names ("CAP_SYS_ADMIN") per set. */
export interface LinuxCapabilities {
  bounding?: string[];
  effective?: string[];
  inheritable?: string[];
  permitted?: string[];
  ambient?: string[];
}

/** A setrlimit(2) entry; `type` is the resource name, e.g. "RLIMIT_NOFILE". */
export interface POSIXRlimit {
  type: string;
  hard: Int64;
  soft: Int64;
}

/** sched_setattr(2) settings (runtime-spec 1.1). */
export interface Scheduler {
  policy: string;
  nice?: number;
  priority?: number;
  flags?: string[];
  runtime?: Int64;
  deadline?: Int64;
  period?: Int64;
}

/** ioprio_set(2) settings (runtime-spec 1.1). */
export interface LinuxIOPriority {
  class: string;
  priority: number;
}

/** One mount, applied in order after the root filesystem. */
export interface Mount {
  destination: string;
  type?: string;
  source?: string;
  options?: string[];
  uidMappings?: LinuxIDMapping[];
  gidMappings?: LinuxIDMapping[];
}

/** The container's root filesystem. */
export interface Root {
  path: string;
  readonly?: boolean;
}

/** Lifecycle hooks; `prestart` is deprecated in favour of the three create/start hooks. */
export interface Hooks {
  prestart?: Hook[];
  createRuntime?: Hook[];
  createContainer?: Hook[];
  startContainer?: Hook[];
  poststart?: Hook[];
  poststop?: Hook[];
}

/** One hook command; `timeout` is in seconds. */
export interface Hook {
  path: string;
  args?: string[];
  env?: string[];
  timeout?: Int64;
}

/** Linux-specific configuration. */
export interface Linux {
  namespaces?: LinuxNamespace[];
  uidMappings?: LinuxIDMapping[];
  gidMappings?: LinuxIDMapping[];
  timeOffsets?: Record<string, LinuxTimeOffset>;
  devices?: LinuxDevice[];
  cgroupsPath?: string;
  resources?: LinuxResources;
  intelRdt?: LinuxIntelRdt;
  sysctl?: Record<string, string>;
  seccomp?: LinuxSeccomp;
  rootfsPropagation?: string;
  maskedPaths?: string[];
  readonlyPaths?: string[];
  mountLabel?: string;
  personality?: LinuxPersonality;
}

/** A namespace to create (no `path`) or join (`path`); `type` is "pid", "network", "mount", ... */
export interface LinuxNamespace {
  type: string;
  path?: string;
}

/** A user-namespace id range. */
export interface LinuxIDMapping {
  containerID: number;
  hostID: number;
  size: number;
}

/** A time-namespace clock offset (runtime-spec 1.1). */
export interface LinuxTimeOffset {
  secs?: Int64;
  nanosecs?: number;
}

/** A device node to create in the container. */
export interface LinuxDevice {
  path: string;
  type: string;
  major?: Int64;
  minor?: Int64;
  fileMode?: number;
  uid?: number;
  gid?: number;
}

/** cgroup limits. */
export interface LinuxResources {
  devices?: LinuxDeviceCgroup[];
  memory?: LinuxMemory;
  cpu?: LinuxCPU;
  pids?: LinuxPids;
  blockIO?: LinuxBlockIO;
  hugepageLimits?: LinuxHugepageLimit[];
  network?: LinuxNetwork;
  rdma?: Record<string, LinuxRdma>;
  unified?: Record<string, string>;
}

/** A device-cgroup rule; an absent `major`/`minor` is a wildcard, an absent `type` is "a". */
export interface LinuxDeviceCgroup {
  allow: boolean;
  type?: string;
  major?: Int64;
  minor?: Int64;
  access?: string;
}

/** Memory limits in bytes; -1 means unlimited. */
export interface LinuxMemory {
  limit?: Int64;
  reservation?: Int64;
  swap?: Int64;
  kernel?: Int64;
  kernelTCP?: Int64;
  swappiness?: Int64;
  disableOOMKiller?: boolean;
  useHierarchy?: boolean;
  checkBeforeUpdate?: boolean;
}

/** CPU limits; quota and periods in microseconds. */
export interface LinuxCPU {
  shares?: Int64;
  quota?: Int64;
  burst?: Int64;
  period?: Int64;
  realtimeRuntime?: Int64;
  realtimePeriod?: Int64;
  cpus?: string;
  mems?: string;
  idle?: Int64;
}

/** The pids controller's limit; -1 (or 0, for runc) means no limit. */
export interface LinuxPids {
  limit: Int64;
}

/** Block-IO weights and throttles. */
export interface LinuxBlockIO {
  weight?: number;
  leafWeight?: number;
  weightDevice?: LinuxWeightDevice[];
  throttleReadBpsDevice?: LinuxThrottleDevice[];
  throttleWriteBpsDevice?: LinuxThrottleDevice[];
  throttleReadIOPSDevice?: LinuxThrottleDevice[];
  throttleWriteIOPSDevice?: LinuxThrottleDevice[];
}

/** A per-device block-IO weight. */
export interface LinuxWeightDevice {
  major: Int64;
  minor: Int64;
  weight?: number;
  leafWeight?: number;
}

/** A per-device block-IO rate limit (bytes or operations per second). */
export interface LinuxThrottleDevice {
  major: Int64;
  minor: Int64;
  rate: Int64;
}

/** A hugetlb limit in bytes for one page size ("2MB", "1GB"). */
export interface LinuxHugepageLimit {
  pageSize: string;
  limit: Int64;
}

/** net_cls / net_prio settings. */
export interface LinuxNetwork {
  classID?: number;
  priorities?: LinuxInterfacePriority[];
}

/** A net_prio priority for one interface. */
export interface LinuxInterfacePriority {
  name: string;
  priority: number;
}

/** RDMA controller limits for one device. */
export interface LinuxRdma {
  hcaHandles?: number;
  hcaObjects?: number;
}

/** A seccomp filter. */
export interface LinuxSeccomp {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  flags?: string[];
  listenerPath?: string;
  listenerMetadata?: string;
  syscalls?: LinuxSyscall[];
}

/** A seccomp rule for a set of syscalls. */
export interface LinuxSyscall {
  names: string[];
  action: string;
  errnoRet?: number;
  args?: LinuxSeccompArg[];
}

/** A seccomp argument comparison; `op` is e.g. "SCMP_CMP_MASKED_EQ". */
export interface LinuxSeccompArg {
  index: Int64;
  value: Int64;
  valueTwo?: Int64;
  op: string;
}

/** Intel RDT (resctrl) settings. */
export interface LinuxIntelRdt {
  closID?: string;
  l3CacheSchema?: string;
  memBwSchema?: string;
  enableCMT?: boolean;
  enableMBM?: boolean;
}

/** personality(2) settings (runtime-spec 1.1). */
export interface LinuxPersonality {
  domain: string;
  flags?: string[];
}
