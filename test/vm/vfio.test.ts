/**
 * VFIO passthrough in a real guest: berth-vm boots with Kata's emulated Intel IOMMU (--iommu), QEMU's
 * `edu` device (a PCI function the guest has no driver for) is hot-plugged onto pci-bridge-0 as a Kata
 * host plugs a VF, and containers get it as `vfio-pci` (bound to vfio-pci, its group's node) and as
 * `vfio-pci-gk` (left to the guest kernel), their `PCIDEVICE_*` variables naming the guest's address.
 */
import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { SpecSchema } from "../../src/protocol/gen/oci_pb.js";
import { qmpCommand } from "../../src/vm/qmp.js";
import { AgentRpc } from "../support/agent-rpc.js";
import { makeBusyboxRootfs } from "../support/busybox-rootfs.js";
import { containerSpec } from "../support/container-spec.js";
import { killVm, SHARE, ShareNamespace, startVm, type VmHandle } from "../support/vm.js";

const T = 60_000;
/** The host's addresses and IOMMU group a Kata host would name (a VF on the host's bus 3b). */
const HOST_BDF = "0000:3b:00.0";
const HOST_GK_BDF = "0000:3c:00.0";
const HOST_GROUP = "17";
const INFO = (bdf: string) => `{"${bdf}":{"generic":{"deviceID":"${bdf}"}}}`;

/** `args`'s output (stdout) and exit status, for a process of a container. */
async function output(rpc: AgentRpc, containerId: string, execId: string) {
  let text = "";
  for (;;) {
    const chunk = await rpc.call("readStdout", { containerId, execId, len: 65536 }, T);
    if (chunk.data.length === 0) break;
    text += Buffer.from(chunk.data).toString();
  }
  return { text, status: (await rpc.call("waitProcess", { containerId, execId }, T)).status };
}

/** The `KEY=value` lines of a script's output. */
const fields = (text: string) =>
  new Map(
    text.split("\n").flatMap((line) => (line.includes("=") ? [line.split(/=(.*)/s, 2)] : [])) as [
      string,
      string,
    ][],
  );

describe("VFIO passthrough in a QEMU guest with an emulated IOMMU", { timeout: 600_000 }, () => {
  let ns: ShareNamespace;
  let vm: VmHandle | undefined;
  let rpc: AgentRpc;
  const rootfs = `${SHARE}/vfio/rootfs`;

  before(async () => {
    ns = await ShareNamespace.open();
    mkdirSync(ns.path(`${SHARE}/vfio`), { recursive: true });
    makeBusyboxRootfs(ns.path(rootfs));
    vm = await startVm(ns, ["--iommu", "--hotplug-timeout", "10"]);
    process.stderr.write(
      `# the VM (with intel-iommu) answered Health ${vm.startMs} ms after berth-vm start\n`,
    );
    rpc = await AgentRpc.connect(vm.agentSocket);
    await rpc.call(
      "createSandbox",
      { sandboxId: "vfio", hostname: "vfio", storages: [JSON.parse(vm.storageJson)] },
      T,
    );
  });

  after(() => {
    rpc?.close();
    killVm(vm);
    ns?.close();
  });

  /** A container of the busybox rootfs running `script`, with `env` added and the spec's devices. */
  const spec = (script: string, env: string[], devices: { path: string; major: bigint; minor: bigint }[]) => {
    const s: MessageInitShape<typeof SpecSchema> = containerSpec({
      rootfs,
      args: ["sh", "-c", script],
      devices: devices.map((d) => ({ ...d, type: "c" })),
    });
    if (s.Process) s.Process.Env = ["PATH=/bin", ...env];
    return s;
  };

  it("vfio-pci: binds a hot-plugged function to vfio-pci; the container gets the guest's group node and address", async () => {
    const v = vm as VmHandle;
    const plugged = performance.now();
    await qmpCommand(v.qmpSocket, "device_add", {
      driver: "edu",
      id: "vf1",
      bus: "pci-bridge-0",
      addr: "03",
    });
    const id = "vfio-c1";
    const script = [
      "g=$(basename $(readlink /sys/bus/pci/devices/0000:02:03.0/iommu_group))",
      "echo group=$g",
      "echo driver=$(readlink /sys/bus/pci/devices/0000:02:03.0/driver)",
      "echo override=$(cat /sys/bus/pci/devices/0000:02:03.0/driver_override)",
      "echo nodes=$(ls /dev/vfio | tr '\\n' ' ')",
      "echo node=$(stat -c '%F %t:%T' /dev/vfio/$g)",
      "echo sysfs=$(cat /sys/devices/virtual/vfio/$g/dev)",
      "if (: <> /dev/vfio/$g) 2>/dev/null; then echo opened=yes; else echo opened=no; fi",
      "echo X=$PCIDEVICE_X",
      "echo INFO=$PCIDEVICE_X_INFO",
    ].join("; ");
    const created = performance.now();
    await rpc.call(
      "createContainer",
      {
        containerId: id,
        execId: id,
        OCI: spec(
          script,
          [`PCIDEVICE_X=${HOST_BDF}`, `PCIDEVICE_X_INFO=${INFO(HOST_BDF)}`],
          [{ path: `/dev/vfio/${HOST_GROUP}`, major: 241n, minor: 17n }],
        ),
        devices: [
          {
            type: "vfio-pci",
            id: HOST_GROUP,
            containerPath: `/dev/vfio/${HOST_GROUP}`,
            options: [`${HOST_BDF}=02/03`],
          },
        ],
      },
      T,
    );
    const done = performance.now();
    await rpc.call("startContainer", { containerId: id }, T);
    const { text, status } = await output(rpc, id, id);
    assert.equal(status, 0, text);
    const got = fields(text);
    const group = got.get("group") ?? "";
    assert.match(group, /^[0-9]+$/, text);
    assert.match(got.get("driver") ?? "", /\/drivers\/vfio-pci$/);
    assert.equal(got.get("override"), "vfio-pci");
    assert.equal(got.get("nodes"), group, "only the guest's group, not the host's /dev/vfio/17");
    const [major, minor] = (got.get("sysfs") ?? "").split(":").map(Number);
    const hex = (n: number | undefined) => (n ?? -1).toString(16);
    assert.equal(got.get("node"), `character special file ${hex(major)}:${hex(minor)}`, text);
    assert.equal(got.get("opened"), "yes", "the device cgroup lets the container open it");
    assert.equal(got.get("X"), "0000:02:03.0");
    assert.equal(got.get("INFO"), INFO("0000:02:03.0"));

    await rpc.call("removeContainer", { containerId: id }, T);

    const logged = readFileSync(v.log, "utf8")
      .split("\n")
      .filter((line) => line.includes('"msg":'))
      .map(
        (line) =>
          JSON.parse(line.slice(line.indexOf("{"))) as {
            msg: string;
            device?: string;
            [field: string]: unknown;
          },
      );
    const ready = logged.filter((l) => l.msg === "VFIO group ready");
    assert.equal(ready.length, 1, "one VFIO group set up");
    const found = logged.find((l) => l.device?.startsWith("the PCI function at PCI path 02/03"));
    process.stderr.write(
      `# vfio-pci: device_add to CreateContainer's answer ${Math.round(done - plugged)} ms; ` +
        `CreateContainer ${Math.round(done - created)} ms: the function ${found?.msg} after ${found?.waited_ms} ms, ` +
        `the binds ${ready[0]?.bind_ms} ms, then the group's node ${ready[0]?.group_ms} ms\n`,
    );
  });

  it("ExecProcess: a process started in a container with a VFIO device reads the guest's address", async () => {
    const id = "vfio-c2";
    await rpc.call(
      "createContainer",
      {
        containerId: id,
        execId: id,
        OCI: spec(
          "echo X=$PCIDEVICE_X; sleep 1000",
          [`PCIDEVICE_X=${HOST_BDF}`],
          [{ path: `/dev/vfio/${HOST_GROUP}`, major: 241n, minor: 17n }],
        ),
        devices: [
          {
            type: "vfio-pci",
            id: HOST_GROUP,
            containerPath: `/dev/vfio/${HOST_GROUP}`,
            options: [`${HOST_BDF}=02/03`],
          },
        ],
      },
      T,
    );
    await rpc.call("startContainer", { containerId: id }, T);
    await rpc.call(
      "execProcess",
      {
        containerId: id,
        execId: "env",
        process: {
          Args: ["sh", "-c", "echo X=$PCIDEVICE_X Y=$PCIDEVICE_Y"],
          Cwd: "/",
          Env: ["PATH=/bin", `PCIDEVICE_X=${HOST_BDF}`, "PCIDEVICE_Y=0000:99:00.0"],
          User: {},
        },
      },
      T,
    );
    const exec = await output(rpc, id, "env");
    assert.deepEqual(exec, { text: "X=0000:02:03.0 Y=0000:99:00.0\n", status: 0 });
    await rpc.call("signalProcess", { containerId: id, execId: "", signal: 9 }, T);
    await rpc.call("waitProcess", { containerId: id, execId: id }, T);
    await rpc.call("removeContainer", { containerId: id }, T);
  });

  it("vfio-pci-gk: the function keeps the guest kernel's driver; only its address is translated", async () => {
    const v = vm as VmHandle;
    await qmpCommand(v.qmpSocket, "device_add", {
      driver: "edu",
      id: "vf2",
      bus: "pci-bridge-0",
      addr: "04",
    });
    const id = "vfio-gk";
    const script = [
      "echo driver=$(readlink /sys/bus/pci/devices/0000:02:04.0/driver)",
      "echo override=$(cat /sys/bus/pci/devices/0000:02:04.0/driver_override)",
      "echo Y=$PCIDEVICE_Y",
    ].join("; ");
    await rpc.call(
      "createContainer",
      {
        containerId: id,
        execId: id,
        OCI: spec(script, [`PCIDEVICE_Y=${HOST_GK_BDF}`], []),
        devices: [
          {
            type: "vfio-pci-gk",
            id: "18",
            containerPath: "/dev/vfio/18",
            options: [`${HOST_GK_BDF}=02/04`],
          },
        ],
      },
      T,
    );
    await rpc.call("startContainer", { containerId: id }, T);
    const { text, status } = await output(rpc, id, id);
    assert.equal(status, 0, text);
    const got = fields(text);
    assert.equal(got.get("driver"), "", "edu has no guest driver, and vfio-pci did not take it");
    assert.equal(got.get("override"), "(null)");
    assert.equal(got.get("Y"), "0000:02:04.0");
    await rpc.call("removeContainer", { containerId: id }, T);
  });
});
