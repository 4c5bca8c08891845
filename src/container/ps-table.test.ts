import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AgentError, Code } from "../errors.js";
import { psTableOf } from "./ps-table.js";

const PS_EF = [
  "UID          PID    PPID  C STIME TTY          TIME CMD",
  "root           1       0  0 Nov26 ?        00:01:21 /sbin/init",
  "root        4242       1  0 05:01 ?        00:00:00 sleep 1000",
  "root        4250    4242  0 05:01 ?        00:00:00 sh -c echo 4242",
  "root          42       1  0 05:01 ?        00:00:00 [kworker/0:1]",
  "",
].join("\n");

describe("psTableOf()", () => {
  it("keeps the header and the lines whose PID column holds a container pid", () => {
    assert.equal(
      psTableOf(PS_EF, [4242, 4250]),
      [
        "UID          PID    PPID  C STIME TTY          TIME CMD",
        "root        4242       1  0 05:01 ?        00:00:00 sleep 1000",
        "root        4250    4242  0 05:01 ?        00:00:00 sh -c echo 4242",
        "",
      ].join("\n"),
    );
  });

  it("matches the PID column only, not a PPID or an argument that looks like a pid", () => {
    assert.equal(
      psTableOf(PS_EF, [42]).split("\n")[1],
      "root          42       1  0 05:01 ?        00:00:00 [kworker/0:1]",
    );
    assert.equal(psTableOf(PS_EF, [0]), `${PS_EF.split("\n")[0]}\n`);
  });

  it("finds PID wherever the header has it, leading spaces included (ps -o pid,comm; busybox ps)", () => {
    const out = "    PID COMMAND\n      7 sleep\n     70 sh\n";
    assert.equal(psTableOf(out, [7]), "    PID COMMAND\n      7 sleep\n");
    const busybox =
      "PID   USER     TIME  COMMAND\n    1 root      0:00 sleep 1000\n   12 root      0:00 sh\n";
    assert.equal(psTableOf(busybox, [12]), "PID   USER     TIME  COMMAND\n   12 root      0:00 sh\n");
  });

  it("leaves out lines without a field under PID and gives just the header when no pid matches", () => {
    assert.equal(psTableOf("UID PID CMD\nroot\n\nroot 5 x\n", [5]), "UID PID CMD\nroot 5 x\n");
    assert.equal(psTableOf("UID PID CMD\nroot 5 x", []), "UID PID CMD\n");
  });

  it("refuses output whose header has no PID column", () => {
    for (const out of ["COMMAND\nsleep\n", "", "  TGID CMD\n  1 x\n"]) {
      assert.throws(
        () => psTableOf(out, [1]),
        (e) => e instanceof AgentError && e.code === Code.INVALID_ARGUMENT && /no PID column/.test(e.message),
      );
    }
  });
});
