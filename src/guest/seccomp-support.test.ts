import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { probeSeccompSupport, seccompSupported } from "./seccomp-support.js";

const ACTIONS = "kill_process kill_thread trap errno user_notif trace log allow\n";
const withSeccomp = { linux: { seccomp: { enabled: true, actions: ["SCMP_ACT_ERRNO"] } } };

describe("seccompSupported()", () => {
  it("needs both a runc built with libseccomp and a kernel with seccomp filters", () => {
    assert.equal(seccompSupported(withSeccomp, ACTIONS), true);
    assert.equal(seccompSupported({ linux: { seccomp: { enabled: false } } }, ACTIONS), false);
    assert.equal(seccompSupported({ linux: {} }, ACTIONS), false);
    assert.equal(seccompSupported(null, ACTIONS), false);
    assert.equal(seccompSupported("nonsense", ACTIONS), false);
    assert.equal(seccompSupported(withSeccomp, undefined), false);
    assert.equal(seccompSupported(withSeccomp, "kill_thread trap\n"), false);
  });
});

describe("probeSeccompSupport()", () => {
  const procfs = mkdtempSync(join(tmpdir(), "berth-procfs-"));
  after(() => rmSync(procfs, { recursive: true, force: true }));
  const runc = (features: unknown) => ({ features: async () => features });

  it("answers false without asking runc when the kernel has no seccomp filters", async () => {
    const asked: string[] = [];
    const supported = await probeSeccompSupport(
      {
        features: async () => {
          asked.push("features");
          return withSeccomp;
        },
      },
      procfs,
    );
    assert.equal(supported, false);
    assert.deepEqual(asked, []);
  });

  it("asks runc when the kernel has them", async () => {
    mkdirSync(join(procfs, "sys/kernel/seccomp"), { recursive: true });
    writeFileSync(join(procfs, "sys/kernel/seccomp/actions_avail"), ACTIONS);
    assert.equal(await probeSeccompSupport(runc(withSeccomp), procfs), true);
    assert.equal(await probeSeccompSupport(runc({}), procfs), false);
    await assert.rejects(
      probeSeccompSupport({ features: () => Promise.reject(new Error("no features verb")) }, procfs),
      /no features verb/,
    );
  });
});
