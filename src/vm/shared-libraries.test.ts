import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AgentError, Code } from "../errors.js";
import { librariesInLdd, sharedLibraries } from "./shared-libraries.js";

describe("shared libraries", () => {
  it("lists the libraries and the loader ldd names, not the vDSO", () => {
    const output = [
      "\tlinux-vdso.so.1 (0x00007ffd5c1f2000)",
      "\tlibseccomp.so.2 => /lib/x86_64-linux-gnu/libseccomp.so.2 (0x00007fa8e4819000)",
      "\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007fa8e4637000)",
      "\t/lib64/ld-linux-x86-64.so.2 (0x00007fa8e484d000)",
    ].join("\n");
    assert.deepEqual(librariesInLdd(output, "runc"), [
      "/lib/x86_64-linux-gnu/libseccomp.so.2",
      "/lib/x86_64-linux-gnu/libc.so.6",
      "/lib64/ld-linux-x86-64.so.2",
    ]);
  });

  it("fails for a library ldd cannot find", () => {
    assert.throws(
      () => librariesInLdd("\tlibfoo.so.1 => not found\n", "/x"),
      (e: unknown) => e instanceof AgentError && e.code === Code.NOT_FOUND && /libfoo\.so\.1/.test(e.message),
    );
  });

  it("finds node's libc and loader here, and none for the static busybox", async () => {
    const node = await sharedLibraries(process.execPath);
    assert.ok(node.some((l) => /\/libc\.so\.6$/.test(l)));
    assert.ok(node.some((l) => /\/ld-linux-x86-64\.so\.2$/.test(l)));
    assert.deepEqual(await sharedLibraries("/bin/busybox"), []);
  });
});
