import { readFileSync } from "node:fs";
import { type AgentServer, createRpcBudgets, startAgentServer } from "./agent-server.js";
import { type AgentConfig, describeConfig, parseCommandLine, USAGE } from "./config/agent-config.js";
import { faultsFromEnv } from "./config/faults.js";
import { AgentError } from "./errors.js";
import { GuestService } from "./guest/guest-service.js";
import { initGuest, shutdownGuest } from "./init/pid1.js";
import { createLogger, type Logger } from "./log.js";
import { Runc } from "./runtime/runc.js";
import { SandboxService } from "./sandbox/sandbox-service.js";
import { StorageRegistry } from "./storage/storage-registry.js";
import { rootIsInitramfs } from "./sys/mount.js";
import { Reaper } from "./sys/reaper.js";
import { formatListenAddress } from "./transport/address.js";
import { AGENT_VERSION, API_VERSION } from "./version.js";

const SHUTDOWN_GRACE_MS = 5000;

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
  // Entries of the run dir that start with "." can never be container ids.
  return new Runc({ binary: config.runc, root: paths.runcRoot, logDir: `${paths.runDir}/.runc-logs` });
}

async function sandboxService(
  config: AgentConfig,
  runc: Runc,
  log: Logger,
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
    storages: new StorageRegistry({ paths, log: log.child({ subsystem: "storage" }) }),
    log: log.child({ subsystem: "sandbox" }),
    faults: faultsFromEnv(process.env),
    noPivot: await rootIsInitramfs(),
    sysfs: "/sys",
    containerPipeSize: config.containerPipeSize,
    onSandboxDestroyed,
  });
}

function guestService(config: AgentConfig, runc: Runc, log: Logger, initDaemon: boolean): GuestService {
  return new GuestService({
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

/** berth-agent itself: the exit code once it has finished. */
async function runAgent(argv: readonly string[]): Promise<number> {
  const resolved = configuration(argv);
  if (typeof resolved === "number") return resolved;
  const { config, warnings } = resolved;
  const log = createLogger({ level: config.logLevel });
  survive(log);
  log.info({ "api-version": API_VERSION, config: describeConfig(config) }, "announce");
  for (const warning of warnings) log.warn({ subsystem: "config" }, warning);
  const asInit = process.pid === 1;
  // As PID 1 the agent's work ends with the sandbox; as a service, with a signal.
  let finish: (reason: string) => void = () => {};
  const stop = new Promise<string>((resolve) => {
    finish = resolve;
  });
  process.once("SIGTERM", () => finish("SIGTERM"));
  process.once("SIGINT", () => finish("SIGINT"));
  let server: AgentServer;
  try {
    if (asInit) await initGuest(config.unifiedCgroupHierarchy || config.cgroupNoV1 === "all", log);
    const runc = runcFor(config);
    const budgets = createRpcBudgets({
      requestBytes: config.rpcRequestBudget,
      replyBytes: config.rpcReplyBudget,
    });
    const sandboxes = await sandboxService(config, runc, log, () => {
      if (asInit) finish("DestroySandbox");
    });
    server = await startAgentServer({
      address: config.serverAddr,
      protocol: config.protocol,
      log,
      sandboxes,
      guest: guestService(config, runc, log, asInit),
      budgets,
    });
  } catch (error) {
    log.fatal({ err: error }, "cannot start");
    log.flush();
    process.stderr.write(`berth-agent: ${describe(error)}\n`);
    return 1;
  }
  log.info({ server_addr: formatListenAddress(server.address) }, "listening");
  const reason = await stop;
  log.info({ reason }, "shutting down");
  await server.close(SHUTDOWN_GRACE_MS);
  log.flush();
  if (asInit) shutdownGuest(config.shutdownAction, log);
  return 0;
}

/** Runs the agent and sets the process's exit code from it. */
export function agentProcess(argv: readonly string[]): void {
  runAgent(argv).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`berth-agent: ${describe(error)}\n`);
      process.exitCode = 1;
    },
  );
}
