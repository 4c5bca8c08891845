import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { stoppedDelete } from "./delete-stopped.js";

/** The parts of a runc 1.1.5 state.json that matter here, as runc wrote them for a busybox container. */
const state = (
  edit: (s: Record<string, unknown> & { config: Record<string, unknown> }) => void = () => {},
) => {
  const s = {
    id: "c1",
    init_process_pid: 29865,
    init_process_start: 4532484,
    created: "2026-12-03T07:27:34.890865912Z",
    config: {
      rootfs: "/run/c1/rootfs",
      namespaces: [
        { type: "NEWPID", path: "" },
        { type: "NEWNET", path: "/var/run/netns/sandbox" },
        { type: "NEWNS", path: "" },
      ],
      cgroups: { name: "c1", path: "", Systemd: false },
      Hooks: null,
    },
    rootless: false,
    cgroup_paths: {
      "": "/sys/fs/cgroup/unified/c1",
      cpu: "/sys/fs/cgroup/cpu/c1",
      cpuacct: "/sys/fs/cgroup/cpu/c1",
      memory: "/sys/fs/cgroup/memory/c1",
      "name=systemd": "/sys/fs/cgroup/systemd/c1",
    },
    namespace_paths: { NEWPID: "/proc/29865/ns/pid" },
    external_descriptors: ["/dev/null", "/dev/null", "/dev/null"],
    intel_rdt_path: "",
  };
  edit(s);
  return JSON.stringify(s);
};

describe("stoppedDelete", () => {
  it("gives the init, as runc names it, and each cgroup directory once", () => {
    assert.deepEqual(stoppedDelete(state()), {
      init: { pid: 29865, startTime: "4532484" },
      cgroupDirs: [
        "/sys/fs/cgroup/unified/c1",
        "/sys/fs/cgroup/cpu/c1",
        "/sys/fs/cgroup/memory/c1",
        "/sys/fs/cgroup/systemd/c1",
      ],
    });
    assert.deepEqual(stoppedDelete(state((s) => (s.cgroup_paths = null)))?.cgroupDirs, []);
    assert.ok(
      stoppedDelete(state((s) => (s.config.Hooks = { prestart: [{ path: "/bin/true" }], poststop: [] }))),
    );
  });

  it("leaves to runc what runc's delete does more for: poststop hooks, systemd, Intel RDT, rootless, a shared PID namespace", () => {
    const more: [string, (s: Record<string, unknown> & { config: Record<string, unknown> }) => void][] = [
      ["poststop hook", (s) => (s.config.Hooks = { poststop: [{ path: "/bin/true" }] })],
      ["systemd cgroups", (s) => (s.config.cgroups = { name: "c1", Systemd: true })],
      ["Intel RDT", (s) => (s.config.intel_rdt = { l3_cache_schema: "L3:0=f" })],
      ["Intel RDT path", (s) => (s.intel_rdt_path = "/sys/fs/resctrl/c1")],
      ["rootless", (s) => (s.rootless = true)],
      ["shared PID namespace", (s) => (s.config.namespaces = [{ type: "NEWPID", path: "/proc/1/ns/pid" }])],
      ["no PID namespace", (s) => (s.config.namespaces = [{ type: "NEWNS", path: "" }])],
    ];
    for (const [what, edit] of more) assert.equal(stoppedDelete(state(edit)), undefined, what);
  });

  it("leaves to runc a state.json not as runc 1.x writes it", () => {
    const odd: [string, (s: Record<string, unknown> & { config: Record<string, unknown> }) => void][] = [
      ["no init pid", (s) => delete s.init_process_pid],
      ["pid 0", (s) => (s.init_process_pid = 0)],
      ["start as text", (s) => (s.init_process_start = "4532484")],
      ["relative cgroup", (s) => (s.cgroup_paths = { cpu: "cpu/c1" })],
      ["cgroup above", (s) => (s.cgroup_paths = { cpu: "/sys/fs/cgroup/cpu/../../../etc" })],
      ["cgroup paths a list", (s) => (s.cgroup_paths = ["/sys/fs/cgroup/cpu/c1"])],
      ["no rootless field", (s) => delete s.rootless],
    ];
    for (const [what, edit] of odd) assert.equal(stoppedDelete(state(edit)), undefined, what);
    assert.equal(stoppedDelete("{"), undefined);
    assert.equal(stoppedDelete("null"), undefined);
  });
});
