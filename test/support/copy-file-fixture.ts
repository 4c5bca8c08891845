import { createHash } from "node:crypto";
import { constants, mkdirSync, readdirSync, readlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, beforeEach } from "node:test";
import type { CopyFileFields } from "../../src/guest/copy-file-request.js";
import { type AgentProcess, startAgent } from "./agent-process.js";
import { AgentRpc } from "./agent-rpc.js";

export const MiB = 1024 * 1024;
const { S_IFREG } = constants;

export const sha256 = (data: Uint8Array) => createHash("sha256").update(data).digest("hex");

/** Everything below `dir`, as "path type" lines, symlinks with their targets. */
export function tree(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .map((e) => {
      const path = join(e.parentPath, e.name).slice(dir.length + 1);
      if (e.isSymbolicLink()) return `${path} -> ${readlinkSync(join(e.parentPath, e.name))}`;
      return `${path} ${e.isDirectory() ? "dir" : "file"}`;
    })
    .sort();
}

export interface CopyFileFixture {
  readonly agent: AgentProcess;
  readonly rpc: AgentRpc;
  /** The agent's shared containers directory, where CopyFile may write. */
  readonly shared: string;
  /** A directory beside it, where nothing may ever change; holds a file "sentinel". */
  readonly outside: string;
  copy(fields: Partial<CopyFileFields> & { path: string }, timeoutMs?: number): Promise<unknown>;
  /** A whole file in chunks of `chunk` bytes, `between` run after each chunk but the last. */
  upload(
    path: string,
    data: Uint8Array,
    chunk: number,
    more?: Partial<CopyFileFields>,
    between?: (offset: number) => void,
  ): Promise<void>;
}

/**
 * An agent for CopyFile tests, started before a describe block's tests and stopped after them, with its
 * shared directory and an "outside" directory whose sentinel file is rewritten before each test.
 */
export function copyFileFixture(): CopyFileFixture {
  let agent: AgentProcess | undefined;
  let rpc: AgentRpc | undefined;
  const started = () => {
    if (!agent || !rpc) throw new Error("the CopyFile fixture's agent is not started");
    return { agent, rpc };
  };
  const fixture: CopyFileFixture = {
    get agent() {
      return started().agent;
    },
    get rpc() {
      return started().rpc;
    },
    get shared() {
      return join(started().agent.dir, "run/shared/containers");
    },
    get outside() {
      return join(started().agent.dir, "outside");
    },
    copy: (fields, timeoutMs) =>
      started().rpc.call("copyFile", { fileMode: S_IFREG | 0o644, dirMode: 0o755, ...fields }, timeoutMs),
    async upload(path, data, chunk, more = {}, between = () => {}) {
      for (let offset = 0; offset === 0 || offset < data.length; offset += chunk) {
        const part = data.subarray(offset, offset + chunk);
        await fixture.copy({
          path,
          fileSize: BigInt(data.length),
          offset: BigInt(offset),
          data: part,
          ...more,
        });
        if (offset + part.length < data.length) between(offset + part.length);
      }
    },
  };
  const writeSentinel = () => writeFileSync(join(fixture.outside, "sentinel"), "untouched");
  before(async () => {
    agent = await startAgent();
    rpc = await AgentRpc.connect(agent.socketPath);
    mkdirSync(fixture.shared, { recursive: true });
    mkdirSync(fixture.outside);
    writeSentinel();
  });
  beforeEach(writeSentinel);
  after(async () => {
    rpc?.close();
    await agent?.stop();
  });
  return fixture;
}
