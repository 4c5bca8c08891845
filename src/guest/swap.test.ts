import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, beforeEach, describe, it } from "node:test";
import { enableSwap } from "./swap.js";

const HEADER = "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n";

/**
 * swapon and swapoff stand-ins on PATH that keep a fake /proc/swaps: this swapon takes the area, then
 * fails, as one killed by its timeout just after the kernel took it would.
 */
describe("enableSwap", () => {
  const dir = mkdtempSync(join(tmpdir(), "berth-swap-unit-"));
  const swaps = join(dir, "swaps");
  const calls = join(dir, "calls");
  const script = (body: string) => `#!/bin/sh\necho "$(basename "$0") $1" >> ${calls}\n${body}\n`;
  writeFileSync(
    join(dir, "swapon"),
    script(`echo "$1 partition 100 0 -2" >> ${swaps}; echo refused >&2; exit 1`),
  );
  writeFileSync(
    join(dir, "swapoff"),
    script(`grep -v "^$1 " ${swaps} > ${swaps}.new; mv ${swaps}.new ${swaps}`),
  );
  chmodSync(join(dir, "swapon"), 0o755);
  chmodSync(join(dir, "swapoff"), 0o755);
  const path = process.env.PATH;
  process.env.PATH = `${dir}:${path}`;
  after(() => {
    process.env.PATH = path;
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    writeFileSync(swaps, HEADER);
    writeFileSync(calls, "");
  });

  it("turns off an area a failed swapon left on, and reports swapon's failure", async () => {
    await assert.rejects(enableSwap("/dev/vdc", dir), /cannot enable swap on \/dev\/vdc: .*refused/);
    assert.equal(readFileSync(swaps, "utf8"), HEADER);
    assert.equal(readFileSync(calls, "utf8"), "swapon /dev/vdc\nswapoff /dev/vdc\n");
  });

  it("leaves an area already on as it is, running nothing", async () => {
    writeFileSync(swaps, `${HEADER}/dev/vdc partition 100 0 -2\n`);
    assert.deepEqual(await enableSwap("/dev/vdc", dir), { path: "/dev/vdc", enabled: false });
    assert.equal(readFileSync(calls, "utf8"), "");
  });
});
