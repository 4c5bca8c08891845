import { DEFAULT_ADDRESS, parseListenAddress } from "../transport/address.js";
import { DEFAULT_PATHS } from "./agent-paths.js";
import {
  absolutePath,
  boolean,
  integer,
  listenAddress,
  logLevel,
  oneOf,
  seconds,
  text,
  url,
  type ValueType,
} from "./value-types.js";

/** One option of the agent: its type, its default and its name in each source that can set it. */
export interface OptionSpec<T> {
  readonly type: ValueType<T>;
  /** Not a source of inference: the type alone says what T is, so "auto" stays a choice, not a string. */
  readonly default: NoInfer<T>;
  /** Key in the TOML config file: Kata's field name, or berth's own for berth-only options. */
  readonly file?: string;
  /** Names on the kernel command line; the first is Kata's current one, the rest older aliases. */
  readonly cmdline?: readonly string[];
  readonly env?: string;
  readonly flag?: {
    readonly name: string;
    readonly short?: string;
    /** The placeholder --help shows (`--hotplug-timeout SECONDS`). */
    readonly arg: string;
    readonly help: string;
    /** How --help describes the default, when the value itself says too little. */
    readonly defaultText?: string;
  };
}

const option = <T>(spec: OptionSpec<T>): OptionSpec<T> => spec;

/** Kata's usual shape: the same name in the config file and, prefixed `agent.`, on the kernel command line. */
const kata = <T>(name: string, type: ValueType<T>, value: NoInfer<T>, more: Partial<OptionSpec<T>> = {}) =>
  option<T>({ type, default: value, file: name, cmdline: [`agent.${name}`], ...more });

const INT32_MAX = 2 ** 31 - 1;
const wireProtocol = oneOf(["auto", "ttrpc", "grpc"]);
const shutdownAction = oneOf(["poweroff", "reboot", "exit"]);
const restApi = oneOf(["all", "attestation", "resource"]);
const guestProcs = oneOf(["none", "attestation-agent", "confidential-data-hub", "api-server-rest"]);
const vsockPort = integer("a vsock port, 0 for none", 0, 0xffff_ffff);
/** At least two of the largest frames, so that any one request fits. */
const rpcBudget = integer("bytes", 8 << 20, INT32_MAX);

/** Options berth acts on. */
export const BERTH_OPTIONS = {
  serverAddr: kata("server_addr", listenAddress, parseListenAddress(DEFAULT_ADDRESS), {
    env: "KATA_AGENT_SERVER_ADDR",
    flag: {
      name: "server-addr",
      arg: "ADDR",
      help: "where to listen: vsock://CID:PORT, unix:///PATH or unix://@NAME",
    },
  }),
  logLevel: kata("log_level", logLevel, "info", {
    cmdline: ["agent.log"],
    env: "KATA_AGENT_LOG_LEVEL",
    flag: {
      name: "log-level",
      arg: "LEVEL",
      help: "trace, debug, info, warn, error or fatal (Kata's names too)",
    },
  }),
  hotplugTimeoutMs: kata("hotplug_timeout", seconds(1), 3000, {
    flag: { name: "hotplug-timeout", arg: "SECONDS", help: "how long to wait for a hot-plugged device" },
  }),
  // berth's default differs from Kata's (0, the kernel's 64 KiB): a 1 MiB pipe lets one ReadStdout carry a
  // megabyte, and its pages are only used while output waits unread.
  containerPipeSize: kata("container_pipe_size", integer("bytes", 0, INT32_MAX), 1 << 20, {
    flag: {
      name: "container-pipe-size",
      arg: "BYTES",
      help: "capacity of containers' stdout and stderr pipes (0: the kernel's 64 KiB)",
      defaultText: "1048576",
    },
  }),
  // Bytes every connection's calls share (src/agent-server.ts). 16 MiB of requests: four of the largest
  // frame (4 MiB) at once, or some 4000 calls blocked (4 KiB each; Kata's shim keeps about three a process);
  // twice that let a flood of padded calls raise the agent's peak RSS by 66 MiB (bench:abuse), 16 MiB by 40.
  // 32 MiB of replies: thirty-two full ReadStdout replies the host has not read yet. Together about 2% of
  // Kata's default 2 GiB guest; smaller guests may want less.
  rpcRequestBudget: kata("rpc_request_budget", rpcBudget, 16 << 20, {
    flag: {
      name: "rpc-request-budget",
      arg: "BYTES",
      help: "request bytes all calls in flight may hold; a call past it is RESOURCE_EXHAUSTED",
      defaultText: "16777216",
    },
  }),
  rpcReplyBudget: kata("rpc_reply_budget", rpcBudget, 32 << 20, {
    flag: {
      name: "rpc-reply-budget",
      arg: "BYTES",
      help: "reply bytes that may wait for the host to read them; then output waits in its pipe",
      defaultText: "33554432",
    },
  }),
  /** When PID 1 mounts cgroups: only cgroup v2 (also with `cgroup_no_v1=all`). */
  unifiedCgroupHierarchy: option({
    type: boolean(),
    default: false,
    file: "unified_cgroup_hierarchy",
    cmdline: ["systemd.unified_cgroup_hierarchy", "agent.unified_cgroup_hierarchy"],
  }),
  /** The kernel's own option: v1 controllers it keeps away from cgroup v1 (`all`: cgroup v2 only). */
  cgroupNoV1: option({ type: text("controller names or all"), default: "", cmdline: ["cgroup_no_v1"] }),
  configFile: option<string | undefined>({
    type: text("a file path"),
    default: undefined,
    cmdline: ["agent.config_file"],
    flag: {
      name: "config",
      short: "c",
      arg: "FILE",
      help: "read options from this TOML file (Kata's keys)",
      defaultText: "none",
    },
  }),
  protocol: option({
    type: wireProtocol,
    default: "auto",
    file: "protocol",
    env: "BERTH_PROTOCOL",
    flag: {
      name: "protocol",
      arg: "P",
      help: "auto (each connection in the protocol it speaks), ttrpc or grpc",
    },
  }),
  shutdownAction: option({
    type: shutdownAction,
    default: "poweroff",
    file: "shutdown_action",
    env: "BERTH_SHUTDOWN_ACTION",
    flag: {
      name: "shutdown-action",
      arg: "ACTION",
      help: "what berth as PID 1 does at the end: poweroff, reboot or exit",
    },
  }),
  runDir: option({
    type: absolutePath,
    default: DEFAULT_PATHS.runDir,
    file: "run_dir",
    env: "BERTH_RUN_DIR",
    flag: { name: "run-dir", arg: "DIR", help: "bundles, shared and sandbox files" },
  }),
  sandboxNsDir: option({
    type: absolutePath,
    default: DEFAULT_PATHS.sandboxNsDir,
    file: "sandbox_ns_dir",
    env: "BERTH_SANDBOX_NS_DIR",
    flag: { name: "sandbox-ns-dir", arg: "DIR", help: "the sandbox's UTS and IPC namespace files" },
  }),
  resolvConf: option({
    type: absolutePath,
    default: DEFAULT_PATHS.resolvConf,
    file: "resolv_conf",
    env: "BERTH_RESOLV_CONF",
    flag: { name: "resolv-conf", arg: "FILE", help: "the guest's resolv.conf, covered by the sandbox's DNS" },
  }),
  runcRoot: option({
    type: absolutePath,
    default: DEFAULT_PATHS.runcRoot,
    file: "runc_root",
    env: "BERTH_RUNC_ROOT",
    flag: { name: "runc-root", arg: "DIR", help: "runc's state directory" },
  }),
  runc: option({
    type: text("a program name or path"),
    default: "runc",
    file: "runc",
    env: "BERTH_RUNC",
    flag: { name: "runc", arg: "PATH", help: "the OCI runtime binary", defaultText: "runc from PATH" },
  }),
};

const memAgent = <T>(name: string, type: ValueType<T>) =>
  kata<T | undefined>(`mem_agent_${name}`, type, undefined);
const u8 = integer("a number", 0, 255);
const u64 = integer("a number", 0, Number.MAX_SAFE_INTEGER);
const i64 = integer("a number", Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);

/**
 * Options of Kata's agent that berth reads and validates but does not act on yet: setting one to other than
 * its default is warned about. Timeouts are in milliseconds. `undefined`: Kata's default, which berth does
 * not know (mem-agent tuning).
 */
export const KATA_ONLY_OPTIONS = {
  debugConsole: kata("debug_console", boolean(), false),
  debugConsoleVport: kata("debug_console_vport", vsockPort, 0),
  logVport: kata("log_vport", vsockPort, 0),
  devMode: kata("dev_mode", boolean(), false, { cmdline: ["agent.devmode"] }),
  tracing: kata("tracing", boolean(["isolated", "collated"]), false, {
    cmdline: ["agent.trace"],
    env: "KATA_AGENT_TRACING",
  }),
  passfdListenerPort: kata("passfd_listener_port", vsockPort, 0),
  cdhApiTimeoutMs: kata("cdh_api_timeout", seconds(1), 50_000),
  cdiTimeoutMs: kata("cdi_timeout", seconds(1), 100_000),
  imagePullTimeoutMs: kata("image_pull_timeout", seconds(1), 1_200_000),
  launchProcessTimeoutMs: kata("launch_process_timeout", seconds(1), 6000),
  visibleCdiDevices: kata("visible_cdi_devices", boolean(), false),
  httpsProxy: kata("https_proxy", url, ""),
  noProxy: kata("no_proxy", text("host names or addresses", false), ""),
  guestComponentsRestApi: kata("guest_components_rest_api", restApi, "resource"),
  guestComponentsProcs: kata("guest_components_procs", guestProcs, "api-server-rest"),
  secureStorageIntegrity: kata("secure_storage_integrity", boolean(), false),
  imageRegistryAuth: kata("image_registry_auth", text("a URI", false), ""),
  enableSignatureVerification: kata("enable_signature_verification", boolean(), false),
  imagePolicyFile: kata("image_policy_file", text("a URI", false), ""),
  policyFile: option({
    type: text("a file path", false),
    default: "",
    file: "policy_file",
    env: "KATA_AGENT_POLICY_FILE",
  }),
  /** Kata 1.x's channel choice; berth listens where server_addr says. */
  useVsock: option({ type: boolean(), default: false, cmdline: ["agent.use_vsock"] }),
  memAgentEnable: kata("mem_agent_enable", boolean(), false),
  memAgentMemcgDisable: memAgent("memcg_disable", boolean()),
  memAgentMemcgSwap: memAgent("memcg_swap", boolean()),
  memAgentMemcgSwappinessMax: memAgent("memcg_swappiness_max", u8),
  memAgentMemcgPeriodSecs: memAgent("memcg_period_secs", u64),
  memAgentMemcgPeriodPsiPercentLimit: memAgent("memcg_period_psi_percent_limit", u8),
  memAgentMemcgEvictionPsiPercentLimit: memAgent("memcg_eviction_psi_percent_limit", u8),
  memAgentMemcgEvictionRunAgingCountMin: memAgent("memcg_eviction_run_aging_count_min", u64),
  memAgentCompactDisable: memAgent("compact_disable", boolean()),
  memAgentCompactPeriodSecs: memAgent("compact_period_secs", u64),
  memAgentCompactPeriodPsiPercentLimit: memAgent("compact_period_psi_percent_limit", u8),
  memAgentCompactPsiPercentLimit: memAgent("compact_psi_percent_limit", u8),
  memAgentCompactSecMax: memAgent("compact_sec_max", i64),
  memAgentCompactOrder: memAgent("compact_order", u8),
  memAgentCompactThreshold: memAgent("compact_threshold", u64),
  memAgentCompactForceTimes: memAgent("compact_force_times", u64),
};

export const OPTIONS = { ...BERTH_OPTIONS, ...KATA_ONLY_OPTIONS };

export type OptionName = keyof typeof OPTIONS;
export type KataOnlyName = keyof typeof KATA_ONLY_OPTIONS;
type ValueOf<S> = S extends OptionSpec<infer T> ? T : never;
export type OptionValues = { [K in OptionName]: ValueOf<(typeof OPTIONS)[K]> };
export type KataOnlyValues = { [K in KataOnlyName]: ValueOf<(typeof KATA_ONLY_OPTIONS)[K]> };

export const OPTION_NAMES = Object.keys(OPTIONS) as OptionName[];
export const KATA_ONLY_NAMES = Object.keys(KATA_ONLY_OPTIONS) as KataOnlyName[];

/** The spec of one option, typed loosely for code that walks the whole table. */
export const specOf = (name: OptionName): OptionSpec<unknown> => OPTIONS[name];
