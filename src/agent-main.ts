import { readFileSync } from "node:fs";
import { type AgentServer, createRpcBudgets, startAgentServer } from "./agent-server.js";
import { type AgentConfig, describeConfig, parseCommandLine, USAGE } from "./config/agent-config.js";
import { runcLogDir, storageRecord } from "./config/agent-paths.js";
import { faultsFromEnv } from "./config/faults.js";
import { DeviceRegistry } from "./device/device-registry.js";
import { UeventListener } from "./device/uevent-listener.js";
import { AgentError } from "./errors.js";
import { GuestService } from "./guest/guest-service.js";
import { initGuest, mountInitFilesystems, shutdownGuest } from "./init/pid1.js";
import { createLogger, type Logger } from "./log.js";
import { GuestMetrics } from "./metrics/guest-metrics.js";
import { IpTables } from "./network/iptables.js";
import { NetworkService } from "./network/network-service.js";
import { Runc } from "./runtime/runc.js";
import { reclaimLeftovers } from "./sandbox/reclaim.js";
import { SandboxService } from "./sandbox/sandbox-service.js";
import { StorageRegistry } from "./storage/storage-registry.js";
import { StorageService } from "./storage/storage-service.js";
import type { ByteBudget } from "./sys/byte-budget.js";
import { rootIsInitramfs } from "./sys/mount.js";
import { PersistedSet } from "./sys/persisted-set.js";
import { Reaper } from "./sys/reaper.js";
import { formatListenAddress } from "./transport/address.js";
import { AGENT_VERSION, API_VERSION } from "./version.js";

/** The longest a stop takes: the sample unit's TimeoutStopSec is 10 s, after which systemd SIGKILLs. */
const SHUTDOWN_BOUND_MS = 8000;
/** What calls still in flight once the sandbox is gone get to send their replies. */
const REPLY_GRACE_MS = 1000;

/** An AgentError's message says what failed; anything else is a bug, so it keeps its stack. */
function describe(error: unknown): string {
  if (error instanceof AgentError) return error.message;
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}

function kernelCmdline(): string {
  try {
    return readFileSync("/proc/cmdline", "utf8");
  } catch {
    return "";
  }
}

function runcFor(config: AgentConfig): Runc {
  const { paths } = config;
  return new Runc({ binary: config.runc, root: paths.runcRoot, logDir: runcLogDir(paths) });
}

function storageRegistry(config: AgentConfig, devices: DeviceRegistry, log: Logger): StorageRegistry {
  const { paths } = config;
  return new StorageRegistry({
    paths,
    log: log.child({ subsystem: "storage" }),
    record: new PersistedSet(storageRecord(paths)),
    devices,
    hotplugTimeoutMs: config.hotplugTimeoutMs,
  });
}

async function sandboxService(
  config: AgentConfig,
  runc: Runc,
  storages: StorageRegistry,
  devices: DeviceRegistry,
  log: Logger,
  replyBudget: ByteBudget,
  onSandboxDestroyed: () => void,
): Promise<SandboxService> {
  const reaper = new Reaper({
    onReap: (pid, exit, watched) => {
      if (!watched) log.debug({ subsystem: "reaper", pid, ...exit }, "reaped an orphan");
    },
  }).start();
  const { paths } = config;
  return new SandboxService({
    paths,
    runc,
    reaper,
    storages,
    log: log.child({ subsystem: "sandbox" }),
    faults: faultsFromEnv(process.env),
    noPivot: await rootIsInitramfs(),
    sysfs: "/sys",
    devices,
    hotplugTimeoutMs: config.hotplugTimeoutMs,
    containerPipeSize: config.containerPipeSize,
    replyBudget,
    onSandboxDestroyed,
  });
}

function guestService(
  config: AgentConfig,
  runc: Runc,
  devices: DeviceRegistry,
  log: Logger,
  initDaemon: boolean,
  containers: SandboxService,
): GuestService {
  return new GuestService({
    containers,
    devices,
    hotplugTimeoutMs: config.hotplugTimeoutMs,
    paths: config.paths,
    sysfs: "/sys",
    procfs: "/proc",
    runc,
    initDaemon,
    log: log.child({ subsystem: "guest" }),
  });
}

/** The configuration to run with, or the exit code once help, the version or a usage error is printed. */
function configuration(argv: readonly string[]): { config: AgentConfig; warnings: string[] } | number {
  try {
    const commandLine = parseCommandLine({
      argv,
      env: process.env,
      cmdline: kernelCmdline(),
      readFile: (path) => readFileSync(path, "utf8"),
    });
    if (commandLine.action === "help") process.stdout.write(USAGE);
    if (commandLine.action === "version") {
      process.stdout.write(`berth-agent version ${AGENT_VERSION} (api version: ${API_VERSION})\n`);
    }
    return commandLine.action === "run" ? commandLine : 0;
  } catch (error) {
    process.stderr.write(`berth-agent: ${describe(error)}\nTry 'berth-agent --help' for the options.\n`);
    return 2;
  }
}

/**
 * The agent is the VM's init: were it to die, the pod would die with it. An error nothing handled is a bug
 * in berth, logged loudly (tests fail on the line), never a reason to stop serving.
 */
function survive(log: Logger): void {
  process.on("unhandledRejection", (reason) => log.error({ err: reason }, "unhandled rejection"));
  process.on("uncaughtException", (error) => log.error({ err: error }, "uncaught exception"));
}

/** Resolves once what the logger holds has been written out. */
function flushed(log: Logger): Promise<void> {
  return new Promise((resolve) => log.flush(() => resolve()));
}

/**
 * A stop (SIGTERM, SIGINT, or the end of the sandbox as PID 1): no new connection; the sandbox destroyed as
 * DestroySandbox does (containers killed, runc state, mounts and namespaces undone), which also answers the
 * calls waiting on it (WaitProcess, ReadStdout, GetOOMEvent); the connections closed after a moment for
 * their last replies. All of it within SHUTDOWN_BOUND_MS: past it the agent exits anyway, and a restart
 * reclaims what is left. A second signal meanwhile exits at once.
 */
async function shutDown(server: AgentServer, sandboxes: SandboxService, log: Logger): Promise<number> {
  const hurry = () => {
    log.warn("second signal while shutting down: exiting now");
    log.flush();
    process.exit(1);
  };
  process.once("SIGTERM", hurry);
  process.once("SIGINT", hurry);
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<number>((resolve) => {
    timer = setTimeout(() => {
      log.error(
        { bound_ms: SHUTDOWN_BOUND_MS },
        "shutdown did not finish in time: exiting, a restart reclaims what is left",
      );
      resolve(1);
    }, SHUTDOWN_BOUND_MS);
  });
  const orderly = (async () => {
    await server.stopAccepting();
    await sandboxes.shutdown().catch((error: unknown) => {
      log.error({ err: error }, "the sandbox was not destroyed cleanly");
    });
    await server.close(REPLY_GRACE_MS);
    return 0;
  })();
  try {
    return await Promise.race([orderly, bound]);
  } finally {
    clearTimeout(timer);
  }
}

/** berth-agent itself: the exit code once it has finished. */
async function runAgent(argv: readonly string[]): Promise<number> {
  const asInit = process.pid === 1;
  // As PID 1, /proc (where the kernel command line is) comes before the configuration, as in Kata.
  let earlyMounts: string[] | Error = [];
  if (asInit) earlyMounts = await mountInitFilesystems().catch((error: unknown) => AgentError.from(error));
  const resolved = configuration(argv);
  if (typeof resolved === "number") return resolved;
  const { config, warnings } = resolved;
  const log = createLogger({ level: config.logLevel });
  survive(log);
  log.info({ "api-version": API_VERSION, config: describeConfig(config) }, "announce");
  for (const warning of warnings) log.warn({ subsystem: "config" }, warning);
  if (earlyMounts instanceof Error) log.error({ err: earlyMounts }, "cannot mount the guest's filesystems");
  else if (asInit) log.debug({ targets: earlyMounts }, "mounted the guest's filesystems");
  // As PID 1 the agent's work ends with the sandbox; as a service, with a signal.
  let finish: (reason: string) => void = () => {};
  const stop = new Promise<string>((resolve) => {
    finish = resolve;
  });
  process.once("SIGTERM", () => finish("SIGTERM"));
  process.once("SIGINT", () => finish("SIGINT"));
  let server: AgentServer;
  let sandboxes: SandboxService;
  try {
    if (asInit) await initGuest(config.unifiedCgroupHierarchy || config.cgroupNoV1 === "all", log);
    const runc = runcFor(config);
    await reclaimLeftovers({ paths: config.paths, runc, log });
    const budgets = createRpcBudgets({
      requestBytes: config.rpcRequestBudget,
      replyBytes: config.rpcReplyBudget,
    });
    // Before the server: what is hot-plugged for the first call is heard.
    const devices = new DeviceRegistry({ log: log.child({ subsystem: "device" }) });
    UeventListener.start(devices, log.child({ subsystem: "uevent" }));
    const storages = storageRegistry(config, devices, log);
    sandboxes = await sandboxService(config, runc, storages, devices, log, budgets.replies, () => {
      if (asInit) finish("DestroySandbox");
    });
    const guest = guestService(config, runc, devices, log, asInit, sandboxes);
    devices.onAdd((event) => guest.deviceAdded(event));
    server = await startAgentServer({
      address: config.serverAddr,
      protocol: config.protocol,
      log,
      sandboxes,
      guest,
      network: {
        links: new NetworkService({
          log: log.child({ subsystem: "network" }),
          hotplugTimeoutMs: config.hotplugTimeoutMs,
          devices,
        }),
        iptables: new IpTables(),
      },
      storage: new StorageService({
        storages,
        paths: config.paths,
        sysfs: "/sys",
        procfs: "/proc",
        log: log.child({ subsystem: "storage" }),
      }),
      metrics: new GuestMetrics({ procfs: "/proc", log: log.child({ subsystem: "metrics" }) }),
      budgets,
    });
  } catch (error) {
    log.fatal({ err: error }, "cannot start");
    await flushed(log);
    process.stderr.write(`berth-agent: ${describe(error)}\n`);
    return 1;
  }
  log.info({ server_addr: formatListenAddress(server.address) }, "listening");
  const reason = await stop;
  log.info({ reason }, "shutting down");
  const code = await shutDown(server, sandboxes, log);
  await flushed(log);
  if (asInit) shutdownGuest(config.shutdownAction, log);
  return code;
}

/**
 * Runs the agent and exits with its code: what still holds the event loop then (a process nobody waited
 * for, a connection) must not keep a stopped agent alive.
 */
export function agentProcess(argv: readonly string[]): void {
  runAgent(argv).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`berth-agent: ${describe(error)}\n`);
      process.exit(1);
    },
  );
}
