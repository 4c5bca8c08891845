import { parseArgs } from "node:util";
import { AgentError, Code } from "../errors.js";
import { packageDir } from "../package-dir.js";
import { runAgentProxy } from "./agent-proxy.js";
import { buildGuestImage, defaultCacheDir } from "./guest-image.js";
import { startVm } from "./vm-start.js";
import { stopVm } from "./vm-stop.js";

export const USAGE = `Usage:
  berth-vm build [--cache-dir DIR]
      Builds the guest image (kernel + initrd with node, berth, runc, busybox, resize2fs and the guest's
      modules) from Debian packages and this package; cached, rebuilt when an input changes.
  berth-vm start --agent-socket PATH --qmp-socket PATH --share DIR [--pid-file PATH] [--disk FILE]...
                 [--memory MiB] [--max-memory MiB] [--cpus N] [--max-cpus N] [--log FILE]
                 [--hotplug-timeout SECONDS] [--boot-timeout SECONDS] [--iommu] [--cache-dir DIR]
      Boots a guest with berth as its init under QEMU (TCG), laid out as Kata's (--iommu: with Kata's
      emulated Intel IOMMU, so that devices can be bound to vfio-pci in the guest), and serves the agent's
      virtio-serial port at --agent-socket for any number of ttrpc clients. Returns once the agent
      answers Health; QEMU runs on. The last line printed is the CreateSandbox storage (protobuf JSON)
      that mounts DIR at /run/kata-containers/shared/containers in the guest.
  berth-vm stop --qmp-socket PATH [--pid-file PATH]
      Ends the VM (QMP quit) and waits for QEMU to exit.
  berth-vm proxy --port-socket PATH --agent-socket PATH
      The host end of the agent's port (start runs it in the background).
`;

function integer(text: string | undefined, name: string, fallback: number): number {
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text))
    throw new AgentError(
      Code.INVALID_ARGUMENT,
      `--${name} must be a whole number, not ${JSON.stringify(text)}`,
    );
  return Number(text);
}

function required(values: Record<string, unknown>, name: string): string {
  const value = values[name];
  if (typeof value !== "string" || value === "")
    throw new AgentError(Code.INVALID_ARGUMENT, `--${name} is required`);
  return value;
}

interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
}

/** berth-vm's commands; the exit code. */
export async function runVmCli(argv: readonly string[], env: NodeJS.ProcessEnv, io: Io): Promise<number> {
  const [command, ...rest] = argv;
  const say = (line: string) => io.err(`berth-vm: ${line}\n`);
  try {
    switch (command) {
      case "build": {
        const { values } = parseArgs({ args: rest, options: { "cache-dir": { type: "string" } } });
        const started = Date.now();
        const image = await buildGuestImage({
          cacheDir: values["cache-dir"] ?? defaultCacheDir(env),
          packageDir: packageDir(),
          log: say,
        });
        say(
          `${image.cached ? "cached" : "built"} in ${Date.now() - started} ms (kernel ${image.kernelVersion})`,
        );
        io.out(`${image.kernel}\n${image.initrd}\n`);
        return 0;
      }
      case "start": {
        const { values } = parseArgs({
          args: rest,
          options: {
            "agent-socket": { type: "string" },
            "qmp-socket": { type: "string" },
            share: { type: "string" },
            "pid-file": { type: "string" },
            disk: { type: "string", multiple: true },
            memory: { type: "string" },
            "max-memory": { type: "string" },
            cpus: { type: "string" },
            "max-cpus": { type: "string" },
            log: { type: "string" },
            "hotplug-timeout": { type: "string" },
            "boot-timeout": { type: "string" },
            iommu: { type: "boolean" },
            "cache-dir": { type: "string" },
          },
        });
        const image = await buildGuestImage({
          cacheDir: values["cache-dir"] ?? defaultCacheDir(env),
          packageDir: packageDir(),
          log: say,
        });
        const vm = await startVm({
          agentSocket: required(values, "agent-socket"),
          qmpSocket: required(values, "qmp-socket"),
          share: required(values, "share"),
          pidFile: values["pid-file"],
          disks: values.disk ?? [],
          memoryMiB: integer(values.memory, "memory", 1024),
          maxMemoryMiB: integer(values["max-memory"], "max-memory", 4096),
          cpus: integer(values.cpus, "cpus", 1),
          maxCpus: integer(values["max-cpus"], "max-cpus", 4),
          log: values.log,
          hotplugTimeoutS: integer(values["hotplug-timeout"], "hotplug-timeout", 3),
          iommu: values.iommu === true,
          bootTimeoutMs: integer(values["boot-timeout"], "boot-timeout", 180) * 1000,
          proxyCommand: [process.execPath, process.argv[1] ?? "", "proxy"],
          image,
        });
        say(`the agent answered after ${vm.bootMs} ms; QEMU pid ${vm.qemuPid}, log ${vm.log}`);
        io.out(`${vm.shareStorage}\n`);
        return 0;
      }
      case "stop": {
        const { values } = parseArgs({
          args: rest,
          options: { "qmp-socket": { type: "string" }, "pid-file": { type: "string" } },
        });
        await stopVm({ qmpSocket: required(values, "qmp-socket"), pidFile: values["pid-file"] });
        return 0;
      }
      case "proxy": {
        const { values } = parseArgs({
          args: rest,
          options: { "port-socket": { type: "string" }, "agent-socket": { type: "string" } },
        });
        const stop = new AbortController();
        process.once("SIGTERM", () => stop.abort());
        process.once("SIGINT", () => stop.abort());
        await runAgentProxy({
          portSocket: required(values, "port-socket"),
          agentSocket: required(values, "agent-socket"),
          signal: stop.signal,
          log: (level, message, fields) =>
            io.err(`berth-vm proxy: ${level}: ${message}${fields ? ` ${JSON.stringify(fields)}` : ""}\n`),
        });
        return 0;
      }
      case undefined:
      case "help":
      case "--help":
        io.out(USAGE);
        return command === undefined ? 2 : 0;
      default:
        io.err(`berth-vm: unknown command ${JSON.stringify(command)}\n${USAGE}`);
        return 2;
    }
  } catch (error) {
    say(error instanceof Error ? error.message : String(error));
    const usage =
      (error instanceof AgentError && error.code === Code.INVALID_ARGUMENT) ||
      String((error as NodeJS.ErrnoException).code).startsWith("ERR_PARSE_ARGS");
    return usage ? 2 : 1;
  }
}
