import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before } from "node:test";
import type { Code } from "../../src/protocol/ttrpc/code.js";
import { TtrpcError } from "../../src/protocol/ttrpc/status.js";
import { type AgentProcess, startAgent } from "./agent-process.js";
import { AgentRpc } from "./agent-rpc.js";
import { makeBusyboxRootfs } from "./busybox-rootfs.js";
import { bindInto, containerSpec, type SpecOptions } from "./container-spec.js";
import { cgroupDirs, entries, mountsUnder, runcContainers } from "./leftovers.js";
import { T } from "./process-helpers.js";

export const failsWith = (code: Code, pattern: RegExp) => (e: unknown) =>
  e instanceof TtrpcError && e.code === code && pattern.test(e.message);

/** An agent in its own mount and network namespaces, a busybox rootfs and a directory containers write to. */
export class Fixture {
  agent!: AgentProcess;
  rpc!: AgentRpc;
  readonly dir = mkdtempSync(join(tmpdir(), "berth-containers-"));
  readonly rootfs = makeBusyboxRootfs(join(this.dir, "rootfs"));
  readonly out = join(this.dir, "out");

  async start(env?: NodeJS.ProcessEnv, args?: string[]) {
    mkdirSync(this.out, { recursive: true });
    this.agent = await startAgent({
      netns: true,
      ...(env ? { env: { ...process.env, ...env } } : {}),
      ...(args ? { args } : {}),
    });
    this.rpc = await AgentRpc.connect(this.agent.socketPath);
  }

  get runDir() {
    return join(this.agent.dir, "run");
  }

  get runcRoot() {
    return join(this.agent.dir, "runc");
  }

  get sandboxNsDir() {
    return join(this.agent.dir, "sandbox-ns");
  }

  spec(args: string[], more: Partial<SpecOptions> = {}) {
    return containerSpec({
      rootfs: this.rootfs,
      args,
      ...more,
      mounts: [bindInto(this.out, "/out"), ...(more.mounts ?? [])],
    });
  }

  /** Creates, starts and waits for a container; returns its exit status. */
  async run(id: string, script: string, more: Partial<SpecOptions> = {}) {
    await this.rpc.call("createContainer", {
      containerId: id,
      execId: id,
      OCI: this.spec(["sh", "-c", script], more),
    });
    await this.rpc.call("startContainer", { containerId: id });
    const { status } = await this.rpc.call("waitProcess", { containerId: id, execId: "" });
    await this.rpc.call("removeContainer", { containerId: id });
    return status;
  }

  read(name: string) {
    return readFileSync(join(this.out, name), "utf8").trim();
  }

  /**
   * Nothing of any container is left: no mount under the run dir, no bundle, no runc state (not even a
   * half-made one runc does not list), no cgroup.
   */
  assertNoContainerLeft(ids: string[]) {
    assert.deepEqual(mountsUnder(this.agent.pid, this.runDir), []);
    assert.deepEqual(
      entries(this.runDir).filter((e) => e !== "sandbox" && !e.startsWith(".")),
      [],
    );
    assert.deepEqual(runcContainers(this.runcRoot), []);
    assert.deepEqual(
      entries(this.runcRoot).filter((e) => !e.startsWith(".")),
      [],
    );
    for (const id of ids) assert.deepEqual(cgroupDirs(id), [], `cgroups of ${id}`);
  }

  async stop() {
    this.rpc?.close();
    try {
      await this.agent?.stop();
    } finally {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }
}

/**
 * The Fixture of a describe block whose tests share one sandbox: before them the agent starts (with
 * `env` added to its environment, and `args`) and creates sandbox `id` (hostname `id`); after them the
 * sandbox is destroyed and the agent stopped.
 */
export function sandboxFixture(
  id: string,
  {
    env,
    args,
    sandboxPidns = false,
  }: { env?: NodeJS.ProcessEnv; args?: string[]; sandboxPidns?: boolean } = {},
): Fixture {
  const f = new Fixture();
  before(async () => {
    await f.start(env, args);
    await f.rpc.call("createSandbox", { sandboxId: id, hostname: id, sandboxPidns }, T);
  });
  after(async () => {
    await f.rpc?.call("destroySandbox", {}, T).catch(() => {});
    await f.stop();
  });
  return f;
}
