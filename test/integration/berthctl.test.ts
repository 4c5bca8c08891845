import assert from "node:assert/strict";
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { AGENT_VERSION } from "../../src/version.js";
import { type AgentProcess, startAgent } from "../support/agent-process.js";
import { makeBusyboxRootfs } from "../support/busybox-rootfs.js";
import { entries, runcContainers } from "../support/leftovers.js";

/** berthctl as built beside this test (dist/ or another outDir with the same layout). */
const BERTHCTL = fileURLToPath(new URL("../../bin/berthctl.js", import.meta.url));
const TEST = { timeout: 60_000 };

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

interface Running {
  child: ChildProcess;
  result: Promise<Result>;
  /** Resolves once stdout matches. */
  stdoutMatches(pattern: RegExp): Promise<void>;
}

function start(file: string, args: string[], env: NodeJS.ProcessEnv = process.env): Running {
  const child = spawn(file, args, { env, stdio: ["pipe", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  const watchers: (() => void)[] = [];
  child.stdout?.setEncoding("utf8").on("data", (text: string) => {
    stdout += text;
    for (const watch of watchers) watch();
  });
  child.stderr?.setEncoding("utf8").on("data", (text: string) => {
    stderr += text;
  });
  const result = new Promise<Result>((resolve) =>
    child.on("close", (code) => resolve({ code, stdout, stderr })),
  );
  const stdoutMatches = (pattern: RegExp) =>
    new Promise<void>((resolve, reject) => {
      const watch = () => pattern.test(stdout) && resolve();
      watchers.push(watch);
      watch();
      result.then(
        () => reject(new Error(`exited before stdout matched ${pattern}: ${stdout} ${stderr}`)),
        reject,
      );
    });
  return { child, result, stdoutMatches };
}

const shellQuote = (word: string) => `'${word.replaceAll("'", `'\\''`)}'`;

describe("berthctl against a real agent", () => {
  let agent: AgentProcess;
  const dir = mkdtempSync(join(tmpdir(), "berthctl-test-"));
  const rootfs = makeBusyboxRootfs(join(dir, "rootfs"));
  const addr = () => `unix://${agent.socketPath}`;
  const ctlArgs = (args: string[]) => [BERTHCTL, "--addr", addr(), ...args];
  const running = (args: string[], env?: NodeJS.ProcessEnv) => start(process.execPath, ctlArgs(args), env);
  const ctl = async (args: string[], input?: string | Buffer, env?: NodeJS.ProcessEnv) => {
    const run = running(args, env);
    run.child.stdin?.end(input);
    return run.result;
  };
  const run = (args: string[], input?: string | Buffer) => ctl(["run", "--rootfs", rootfs, ...args], input);
  const assertNoContainerLeft = () => {
    assert.deepEqual(runcContainers(join(agent.dir, "runc")), []);
    assert.deepEqual(
      entries(join(agent.dir, "run")).filter((e) => e !== "sandbox" && !e.startsWith(".")),
      [],
    );
  };

  before(async () => {
    agent = await startAgent({ netns: true });
  });
  after(async () => {
    await agent?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("answers health and version, as text and as --json", async () => {
    assert.deepEqual(await ctl(["health"]), { code: 0, stdout: "SERVING\n", stderr: "" });
    assert.deepEqual(await ctl(["--json", "health"]), {
      code: 0,
      stdout: '{"status":"SERVING"}\n',
      stderr: "",
    });
    const version = await ctl(["version"]);
    assert.equal(version.stdout, `berthctl ${AGENT_VERSION}\nagent    ${AGENT_VERSION} (protocol 0.0.1)\n`);
    const json = JSON.parse((await ctl(["version", "--json"])).stdout);
    assert.deepEqual(json, {
      clientVersion: AGENT_VERSION,
      agentVersion: AGENT_VERSION,
      grpcVersion: "0.0.1",
    });
  });

  it("calls any RPC by name with a JSON body, and refuses malformed JSON and unknown RPCs in one line", async () => {
    await ctl(["call", "DestroySandbox"]);
    const created = await ctl(["call", "CreateSandbox", '{"sandboxId": "sb-call", "hostname": "from-call"}']);
    assert.deepEqual(created, { code: 0, stdout: "{}\n", stderr: "" });
    const again = await ctl(["call", "CreateSandbox", "-"], '{"sandboxId": "sb-2"}');
    assert.equal(again.code, 1);
    assert.match(again.stderr, /^berthctl: CreateSandbox: ALREADY_EXISTS: .*sb-call.*\n$/);
    const malformed = await ctl(["call", "CreateContainer", '{"containerId": }']);
    assert.equal(malformed.code, 1);
    assert.equal(malformed.stdout, "");
    assert.match(malformed.stderr, /^berthctl: the request is not valid JSON: [^\n]*\n$/);
    const misfit = await ctl(["call", "CreateSandbox", '{"hostnam": "x"}']);
    assert.match(
      misfit.stderr,
      /^berthctl: the request does not fit grpc.CreateSandboxRequest: key "hostnam" is unknown\n$/,
    );
    assert.match(
      (await ctl(["call", "Nope"])).stderr,
      /^berthctl: unknown RPC "Nope"; "berthctl list" shows them all\n$/,
    );
    const wait = await ctl(["--json", "call", "WaitProcess", '{"containerId": "none"}']);
    assert.deepEqual(
      [wait.code, wait.stderr],
      [1, 'berthctl: WaitProcess: NOT_FOUND: container "none" not found\n'],
    );
    const list = (await ctl(["list"])).stdout.trim().split("\n");
    assert.equal(list.length, 45, "Health 2, AgentService 42 + ListProcesses");
    assert.ok(list.includes("CreateContainer") && list.includes("Check"));
    assert.deepEqual(await ctl(["call", "DestroySandbox", "{}"]), { code: 0, stdout: "{}\n", stderr: "" });
  });

  it("run creates the sandbox with --hostname when there is none, and joins the one there is", async () => {
    await ctl(["call", "DestroySandbox"]);
    assert.deepEqual(await run(["--hostname", "berthctl-test", "--", "hostname"]), {
      code: 0,
      stdout: "berthctl-test\n",
      stderr: "",
    });
    const joined = await run(["--hostname", "other", "hostname"]);
    assert.equal(joined.stdout, "berthctl-test\n");
    assert.equal(joined.stderr, "berthctl: warning: a sandbox exists already; --hostname other is ignored\n");
  });

  it(
    "run streams stdout and stderr apart, exits with the container's status and removes it",
    TEST,
    async () => {
      const result = await run(["--", "sh", "-c", "echo out; echo err >&2; exit 3"]);
      assert.deepEqual(result, { code: 3, stdout: "out\n", stderr: "err\n" });
      assertNoContainerLeft();
    },
  );

  it("run -i passes stdin through and closes it at EOF; without -i the process reads EOF", TEST, async () => {
    assert.deepEqual(await run(["-i", "--", "cat"], "hello\nworld\n"), {
      code: 0,
      stdout: "hello\nworld\n",
      stderr: "",
    });
    const big = Buffer.alloc(3 << 20, "x");
    assert.equal((await run(["-i", "wc", "-c"], big)).stdout.trim(), String(big.length));
    assert.deepEqual(await run(["cat"], "ignored"), { code: 0, stdout: "", stderr: "" });
  });

  it(
    "run --tty gives the process a terminal of the local terminal's size, and follows its resizes",
    TEST,
    async () => {
      const waitForResize =
        'stty size; tty; i=0; while [ "$(stty size)" = "30 100" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; stty size; exit 4';
      const command = [
        process.execPath,
        ...ctlArgs(["run", "-t", "--rootfs", rootfs, "--", "sh", "-c", waitForResize]),
      ];
      const resizeLater = "(sleep 0.5; stty rows 20 cols 90 </dev/tty) &";
      const shell = `stty rows 30 cols 100; ${resizeLater} ${command.map(shellQuote).join(" ")}`;
      const script = start("script", ["-qec", shell, "/dev/null"]);
      script.child.stdin?.end();
      const result = await script.result;
      assert.equal(result.code, 4, result.stderr);
      assert.match(result.stdout, /^30 100\r*\n\/dev\/pts\/\d+\r*\n20 90\r*\n$/);
    },
  );

  it("run -t -i passes keys through a raw local terminal", TEST, async () => {
    const command = [process.execPath, ...ctlArgs(["run", "-ti", "--rootfs", rootfs, "sh"])];
    const script = start("script", ["-qec", command.map(shellQuote).join(" "), "/dev/null"]);
    await script.stdoutMatches(/# /);
    script.child.stdin?.write("echo $((6 * 7))\r");
    await script.stdoutMatches(/\n42\r?\r?\n/);
    script.child.stdin?.write("exit 7\r");
    const result = await script.result;
    assert.equal(result.code, 7, result.stderr);
  });

  it("exec runs commands in a running container and kill signals it", TEST, async () => {
    const script = 'trap "echo terminated; exit 9" TERM; echo ready; while :; do sleep 0.1; done';
    const web = running(["run", "--rootfs", rootfs, "--id", "web", "--", "sh", "-c", script]);
    web.child.stdin?.end();
    await web.stdoutMatches(/ready/);
    assert.deepEqual(await ctl(["exec", "web", "--", "sh", "-c", "echo in; echo err >&2; exit 5"]), {
      code: 5,
      stdout: "in\n",
      stderr: "err\n",
    });
    assert.equal((await ctl(["exec", "-i", "web", "cat"], "through exec")).stdout, "through exec");
    const missing = await ctl(["exec", "nowhere", "true"]);
    assert.deepEqual(missing, {
      code: 125,
      stdout: "",
      stderr: 'berthctl: ExecProcess: NOT_FOUND: container "nowhere" not found\n',
    });
    assert.deepEqual(await ctl(["kill", "web", "TERM"]), { code: 0, stdout: "", stderr: "" });
    assert.deepEqual(await web.result, { code: 9, stdout: "ready\nterminated\n", stderr: "" });
    assertNoContainerLeft();
  });

  it("ps lists a container's processes: ps lines, or pids with --json", TEST, async () => {
    const script = "sleep 1000 & echo ready; wait";
    const still = running(["run", "--rootfs", rootfs, "--id", "still", "--", "sh", "-c", script]);
    still.child.stdin?.end();
    await still.stdoutMatches(/ready/);
    const pids = JSON.parse((await ctl(["--json", "ps", "still"])).stdout) as number[];
    assert.equal(pids.length, 2, "sh and its sleep");
    const table = (await ctl(["ps", "still", "--", "-o", "pid,args"])).stdout.trim().split("\n");
    assert.match(table[0] ?? "", /PID\s+COMMAND/);
    const listed = table.slice(1).map((line) => Number(line.trim().split(/\s+/)[0]));
    assert.deepEqual(listed.sort(), pids.sort());
    assert.match(table.join("\n"), /sleep 1000/);
    assert.equal((await ctl(["kill", "still", "KILL"])).code, 0);
    assert.equal((await still.result).code, 137);
    assertNoContainerLeft();
  });

  it("passes Ctrl-C on to the container; --keep leaves it for rm", TEST, async () => {
    const script = 'trap "echo interrupted; exit 2" INT; echo ready; while :; do sleep 0.1; done';
    const kept = running(["run", "--rootfs", rootfs, "--id", "kept", "--keep", "--", "sh", "-c", script]);
    kept.child.stdin?.end();
    await kept.stdoutMatches(/ready/);
    kept.child.kill("SIGINT");
    assert.deepEqual(await kept.result, { code: 2, stdout: "ready\ninterrupted\n", stderr: "" });
    assert.deepEqual(runcContainers(join(agent.dir, "runc")), ["kept"]);
    assert.deepEqual(await ctl(["rm", "kept"]), { code: 0, stdout: "", stderr: "" });
    assertNoContainerLeft();
    const victim = running([
      "run",
      "--rootfs",
      rootfs,
      "--id",
      "victim",
      "--",
      "sh",
      "-c",
      "echo ready; sleep 1000",
    ]);
    victim.child.stdin?.end();
    await victim.stdoutMatches(/ready/);
    assert.equal((await ctl(["kill", "victim", "9"])).code, 0);
    assert.deepEqual(await victim.result, { code: 137, stdout: "ready\n", stderr: "" }, "128 + SIGKILL");
  });

  it("runs an OCI bundle's config.json", TEST, async () => {
    const bundle = join(dir, "bundle");
    mkdirSync(bundle);
    execFileSync("runc", ["spec", "--bundle", bundle]);
    symlinkSync(rootfs, join(bundle, "rootfs"));
    const config = JSON.parse(readFileSync(join(bundle, "config.json"), "utf8"));
    config.process.args = ["sh", "-c", "echo from the bundle; exit 6"];
    writeFileSync(join(bundle, "config.json"), JSON.stringify(config));
    assert.deepEqual(await ctl(["run", "--rootfs", bundle]), {
      code: 6,
      stdout: "from the bundle\n",
      stderr: "",
    });
  });

  it("fails with 125 and one line when the container cannot run", async () => {
    const missing = await ctl(["run", "--rootfs", join(dir, "missing"), "true"]);
    assert.deepEqual(missing, {
      code: 125,
      stdout: "",
      stderr: `berthctl: --rootfs ${join(dir, "missing")}: no such directory\n`,
    });
    const noCommand = await run([]);
    assert.deepEqual(
      [noCommand.code, noCommand.stderr],
      [125, "berthctl: run needs a command: berthctl run --rootfs DIR -- CMD [ARG...]\n"],
    );
    const noBinary = await run(["/no/such/binary"]);
    assert.equal(noBinary.code, 125);
    assert.match(
      noBinary.stderr,
      /^berthctl: CreateContainer: INTERNAL: runc create \w+: [^\n]*no such file or directory[^\n]*\n$/,
    );
    assertNoContainerLeft();
  });

  it("says where it looked, and how to change it, when the agent is unreachable", async () => {
    const flag = await ctl(["--addr", "unix:///nonexistent/agent.sock", "health"]);
    assert.equal(flag.code, 1);
    assert.match(
      flag.stderr,
      /^berthctl: cannot reach the agent at unix:\/\/\/nonexistent\/agent\.sock \(from --addr\): ENOENT \(no such file or directory\); give --addr ADDR or set BERTH_ADDR \([^\n]*\)\n$/,
    );
    const env = { ...process.env, BERTH_ADDR: "unix://@berthctl-nobody-here" };
    const fromEnv = await start(process.execPath, [BERTHCTL, "--grpc", "version"], env).result;
    assert.equal(fromEnv.code, 1);
    assert.match(
      fromEnv.stderr,
      /cannot reach the agent at unix:\/\/@berthctl-nobody-here \(from BERTH_ADDR\): ECONNREFUSED/,
    );
  });

  it("reaches an agent on an abstract unix socket over ttrpc and gRPC", TEST, async () => {
    const name = `berthctl-test-${process.pid}`;
    // Abstract socket names belong to a network namespace: this agent shares the test's.
    const abstract = await startAgent({ args: ["--server-addr", `unix://@${name}`], ready: "listening" });
    try {
      const at = (args: string[]) =>
        start(process.execPath, [BERTHCTL, "--addr", `unix://@${name}`, ...args]).result;
      assert.deepEqual(await at(["health"]), { code: 0, stdout: "SERVING\n", stderr: "" });
      assert.equal((await at(["--grpc", "health"])).stdout, "SERVING\n");
      const result = await at([
        "--grpc",
        "run",
        "--rootfs",
        rootfs,
        "--",
        "sh",
        "-c",
        "echo over grpc; echo e >&2; exit 4",
      ]);
      assert.deepEqual(result, { code: 4, stdout: "over grpc\n", stderr: "e\n" });
    } finally {
      await abstract.stop();
    }
  });
});
