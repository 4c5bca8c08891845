import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AgentError, Code } from "../errors.js";
import type { Spec } from "../oci/oci-spec.js";
import type { GuestHooks } from "./guest-hooks.js";
import {
  hasPidNamespace,
  joinSandboxNamespaces,
  mergeGuestHooks,
  restrictCpus,
  restrictUpdateCpus,
  setRootfs,
  takeNetSysctls,
} from "./spec-edits.js";

const base = (): Spec => ({ ociVersion: "1.1.0" });
const invalidArgument = (message: RegExp) => (e: unknown) =>
  e instanceof AgentError && e.code === Code.INVALID_ARGUMENT && message.test(e.message);

describe("hasPidNamespace()", () => {
  it("is true only when a pid entry is present", () => {
    assert.equal(hasPidNamespace(base()), false);
    assert.equal(hasPidNamespace({ ...base(), linux: {} }), false);
    assert.equal(hasPidNamespace({ ...base(), linux: { namespaces: [{ type: "mount" }] } }), false);
    assert.equal(
      hasPidNamespace({ ...base(), linux: { namespaces: [{ type: "mount" }, { type: "pid" }] } }),
      true,
    );
    assert.equal(
      hasPidNamespace({ ...base(), linux: { namespaces: [{ type: "pid", path: "/proc/1/ns/pid" }] } }),
      true,
    );
  });
});

describe("joinSandboxNamespaces()", () => {
  const files = { ipc: "/var/run/sandbox-ns/ipc", uts: "/var/run/sandbox-ns/uts" };

  it("replaces ipc and uts entries, keeps the others in order, and adds a new pid namespace", () => {
    const spec: Spec = {
      ...base(),
      linux: {
        namespaces: [
          { type: "ipc" },
          { type: "mount" },
          { type: "uts", path: "/proc/9/ns/uts" },
          { type: "cgroup" },
        ],
      },
    };
    joinSandboxNamespaces(spec, files);
    assert.deepEqual(spec.linux?.namespaces, [
      { type: "mount" },
      { type: "cgroup" },
      { type: "ipc", path: files.ipc },
      { type: "uts", path: files.uts },
      { type: "pid" },
    ]);
  });

  it("joins the sandbox's pid namespace when given, replacing any pid entry", () => {
    const spec: Spec = {
      ...base(),
      linux: { namespaces: [{ type: "pid" }, { type: "network", path: "/x" }] },
    };
    joinSandboxNamespaces(spec, { ...files, pid: "/proc/42/ns/pid" });
    assert.deepEqual(spec.linux?.namespaces, [
      { type: "network", path: "/x" },
      { type: "ipc", path: files.ipc },
      { type: "uts", path: files.uts },
      { type: "pid", path: "/proc/42/ns/pid" },
    ]);
  });

  it("creates linux and linux.namespaces when absent", () => {
    const spec = base();
    joinSandboxNamespaces(spec, files);
    assert.deepEqual(spec.linux, {
      namespaces: [{ type: "ipc", path: files.ipc }, { type: "uts", path: files.uts }, { type: "pid" }],
    });
    const withLinux: Spec = { ...base(), linux: { cgroupsPath: "/c" } };
    joinSandboxNamespaces(withLinux, files);
    assert.equal(withLinux.linux?.cgroupsPath, "/c");
    assert.equal(withLinux.linux?.namespaces?.length, 3);
  });
});

describe("takeNetSysctls()", () => {
  it("moves every net.* (and net/*) key out of the spec and returns them", () => {
    const spec: Spec = {
      ...base(),
      linux: {
        sysctl: {
          "net.ipv4.ip_forward": "1",
          "kernel.shm_rmid_forced": "1",
          "net/ipv4/ping_group_range": "0 2147483647",
          network: "kept",
          "fs.mqueue.msg_max": "20",
        },
      },
    };
    assert.deepEqual(takeNetSysctls(spec), {
      "net.ipv4.ip_forward": "1",
      "net/ipv4/ping_group_range": "0 2147483647",
    });
    assert.deepEqual(spec.linux?.sysctl, {
      "kernel.shm_rmid_forced": "1",
      network: "kept",
      "fs.mqueue.msg_max": "20",
    });
  });

  it("returns nothing for a spec without sysctls or without net.* keys", () => {
    assert.deepEqual(takeNetSysctls(base()), {});
    assert.deepEqual(takeNetSysctls({ ...base(), linux: {} }), {});
    const spec: Spec = { ...base(), linux: { sysctl: { "kernel.msgmax": "8192" } } };
    assert.deepEqual(takeNetSysctls(spec), {});
    assert.deepEqual(spec.linux?.sysctl, { "kernel.msgmax": "8192" });
  });
});

describe("restrictCpus()", () => {
  const withCpus = (cpus: string): Spec => ({
    ...base(),
    linux: { resources: { cpu: { shares: 2, cpus } } },
  });

  it("keeps only the online CPUs of the requested set", () => {
    const spec = withCpus("0-5,7");
    restrictCpus(spec, "0-3,7\n");
    assert.deepEqual(spec.linux?.resources?.cpu, { shares: 2, cpus: "0-3,7" });
  });

  it("leaves a set that is wholly online as it was, normalised", () => {
    const spec = withCpus("1,0");
    restrictCpus(spec, "0-3");
    assert.equal(spec.linux?.resources?.cpu?.cpus, "0-1");
  });

  it("drops the cpus member when none of the requested CPUs is online (best effort)", () => {
    const spec = withCpus("4-7");
    restrictCpus(spec, "0-3");
    assert.deepEqual(spec.linux?.resources?.cpu, { shares: 2 });
  });

  it("does nothing without a requested cpuset", () => {
    for (const spec of [base(), { ...base(), linux: { resources: {} } }, withCpus("")]) {
      const before = structuredClone(spec);
      restrictCpus(spec, "0-3");
      assert.deepEqual(spec, before);
    }
  });

  it("refuses a malformed requested or online list", () => {
    assert.throws(() => restrictCpus(withCpus("0-x"), "0-3"), invalidArgument(/"0-x"/));
    assert.throws(() => restrictCpus(withCpus("0-1"), "garbage"), invalidArgument(/"garbage"/));
  });
});

describe("restrictUpdateCpus()", () => {
  it("keeps only the online CPUs, in a copy", () => {
    const resources = { memory: { limit: 1 }, cpu: { shares: 2, cpus: "0-5,7" } };
    assert.deepEqual(restrictUpdateCpus(resources, "0-3,7\n"), {
      memory: { limit: 1 },
      cpu: { shares: 2, cpus: "0-3,7" },
    });
    assert.equal(resources.cpu.cpus, "0-5,7");
  });

  it("gives every online CPU when none of the requested ones is online", () => {
    assert.deepEqual(restrictUpdateCpus({ cpu: { cpus: "4-7" } }, "0,1,2\n"), { cpu: { cpus: "0-2" } });
  });

  it("returns resources without a cpuset as they are", () => {
    for (const resources of [{}, { cpu: { shares: 5 } }, { cpu: { cpus: "" } }]) {
      assert.equal(restrictUpdateCpus(resources, "0-3"), resources);
    }
  });

  it("refuses a malformed requested list", () => {
    assert.throws(() => restrictUpdateCpus({ cpu: { cpus: "3-1" } }, "0-3"), invalidArgument(/"3-1"/));
  });
});

describe("mergeGuestHooks()", () => {
  const guest: GuestHooks = {
    prestart: [{ path: "/usr/share/oci/hooks/prestart/a", args: ["a", "prestart"] }],
    poststart: [
      { path: "/usr/share/oci/hooks/poststart/b", args: ["b", "poststart"], env: ["X=1"], timeout: 5 },
    ],
    poststop: [],
  };

  it("appends each guest hook to the spec's list of the same type, after the spec's own", () => {
    const spec: Spec = {
      ...base(),
      hooks: {
        prestart: [{ path: "/host/prestart" }],
        poststop: [{ path: "/host/poststop" }],
        createRuntime: [{ path: "/host/create-runtime" }],
      },
    };
    mergeGuestHooks(spec, guest);
    assert.deepEqual(spec.hooks, {
      prestart: [
        { path: "/host/prestart" },
        { path: "/usr/share/oci/hooks/prestart/a", args: ["a", "prestart"] },
      ],
      poststop: [{ path: "/host/poststop" }],
      createRuntime: [{ path: "/host/create-runtime" }],
      poststart: [
        { path: "/usr/share/oci/hooks/poststart/b", args: ["b", "poststart"], env: ["X=1"], timeout: 5 },
      ],
    });
  });

  it("creates spec.hooks when the spec has none, and copies the hooks", () => {
    const spec = base();
    mergeGuestHooks(spec, guest);
    assert.deepEqual(spec.hooks?.prestart, guest.prestart);
    assert.notEqual(spec.hooks?.prestart?.[0], guest.prestart[0]);
    spec.hooks?.prestart?.[0]?.args?.push("changed");
    assert.deepEqual(guest.prestart[0]?.args, ["a", "prestart"]);
  });

  it("leaves a spec alone when there are no guest hooks", () => {
    const spec = base();
    mergeGuestHooks(spec, { prestart: [], poststart: [], poststop: [] });
    assert.deepEqual(spec, base());
  });
});

describe("setRootfs()", () => {
  it("replaces root.path and keeps readonly", () => {
    const spec: Spec = { ...base(), root: { path: "/host/rootfs", readonly: true } };
    setRootfs(spec, "/run/kata-containers/c/rootfs");
    assert.deepEqual(spec.root, { path: "/run/kata-containers/c/rootfs", readonly: true });
    const rw: Spec = { ...base(), root: { path: "/a", readonly: false } };
    setRootfs(rw, "/b");
    assert.deepEqual(rw.root, { path: "/b", readonly: false });
  });

  it("creates root when absent, without a readonly flag", () => {
    const spec = base();
    setRootfs(spec, "/b");
    assert.deepEqual(spec.root, { path: "/b" });
  });
});
