import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const PROBE = fileURLToPath(new URL("../support/netlink-probe.js", import.meta.url));

describe("one netlink primitive for rtnetlink and uevents", () => {
  it("hears the kernel's uevents and link announcements for a veth pair made in a namespace of its own", () => {
    const out = execFileSync("unshare", ["--net", process.execPath, PROBE], {
      encoding: "utf8",
      timeout: 20_000,
    });
    const heard = JSON.parse(out) as { uevents: { text: string; port: number }[]; links: string[] };
    const add = heard.uevents.find((u) => u.text.startsWith("add@/devices/virtual/net/probe0"));
    assert.ok(add, JSON.stringify(heard.uevents.map((u) => u.text.split("\0")[0])));
    assert.equal(add.port, 0, "sent by the kernel");
    const fields = add.text.split("\0");
    assert.ok(
      fields.includes("ACTION=add") &&
        fields.includes("SUBSYSTEM=net") &&
        fields.includes("INTERFACE=probe0"),
    );
    assert.ok(heard.links.includes("probe0") && heard.links.includes("probe1"), heard.links.join(","));
  });
});
