import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { bundlePaths } from "../bundle/bundle-paths.js";
import type { AgentPaths } from "../config/agent-paths.js";
import { FakePciSysfs } from "../device/fake-pci-sysfs.test-util.js";
import { capturingLog } from "../log.test-util.js";
import type { Spec } from "../oci/oci-spec.js";
import { createContainer } from "./create-container.js";
import { FakeRuntime, fakeContainerDeps, scratchPaths } from "./fake-runtime.test-util.js";

const INFO = (a: string) => `PCIDEVICE_X_INFO={"${a}":{"generic":{"deviceID":"${a}"}}}`;

describe("createContainer() with PCI functions passed through", () => {
  const { log, lines } = capturingLog<{ variable?: string; address?: string }>();
  let dir: string;
  let paths: AgentPaths;
  let sysfs: FakePciSysfs;
  const runtime = new FakeRuntime();

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "berth-create-pci-"));
    paths = scratchPaths(dir);
    sysfs = await FakePciSysfs.create(log);
    await mkdir(join(sysfs.root, "devices/system/cpu"), { recursive: true });
    await writeFile(join(sysfs.root, "devices/system/cpu/online"), "0\n");
    await sysfs.plug({ bdf: "0000:02:03.0", group: "5", driver: "ixgbevf" });
  });
  after(async () => {
    runtime.killAll();
    await sysfs.remove();
    await rm(dir, { recursive: true, force: true });
  });

  it("gives the container's own env and every exec's the guest's addresses (Kata translates a copy)", async () => {
    const deps = fakeContainerDeps(runtime, paths, log, {
      sysfs: sysfs.root,
      devices: sysfs.context(log).devices,
      hotplugTimeoutMs: 1000,
    });
    const id = "c1";
    const spec: Spec = {
      ociVersion: "1.0.2",
      process: {
        args: ["sleep", "1000"],
        cwd: "/",
        user: { uid: 0, gid: 0 },
        env: ["PATH=/bin", "PCIDEVICE_X=0000:3b:00.0", INFO("0000:3b:00.0"), "PCIDEVICE_Y=0000:99:00.0"],
      },
      root: { path: bundlePaths(paths, id).rootfs },
    };
    const container = await createContainer(
      deps,
      {
        namespaces: { ipc: join(dir, "ipc"), uts: join(dir, "uts") },
        guestHooks: { prestart: [], poststart: [], poststop: [] },
        onOom: undefined,
      },
      {
        containerId: id,
        execId: "",
        devices: [
          {
            id: "17",
            type: "vfio-pci-gk",
            vmPath: "",
            containerPath: "/dev/vfio/17",
            options: ["0000:3b:00.0=02/03"],
          },
        ],
        storages: [],
        spec,
        sandboxPidns: false,
      },
    );
    try {
      assert.deepEqual(container.pci, [["0000:3b:00.0", "0000:02:03.0"]]);
      const written = JSON.parse(await readFile(container.bundle.config, "utf8")) as Spec;
      assert.deepEqual(written.process?.env, [
        "PATH=/bin",
        "PCIDEVICE_X=0000:02:03.0",
        INFO("0000:02:03.0"),
        "PCIDEVICE_Y=0000:99:00.0",
      ]);
      assert.deepEqual(
        lines.filter((l) => l.level === "warn").map(({ variable, address }) => ({ variable, address })),
        [{ variable: "PCIDEVICE_Y", address: "0000:99:00.0" }],
      );
      await container.start();
      await container.exec("e1", {
        args: ["true"],
        cwd: "/",
        user: { uid: 0, gid: 0 },
        env: ["PCIDEVICE_X=0000:3b:00.0", INFO("0000:3b:00.0")],
      });
      await container.exec("e2", { args: ["true"], cwd: "/", user: { uid: 0, gid: 0 } });
      assert.deepEqual(runtime.execSpecs[0]?.env, ["PCIDEVICE_X=0000:02:03.0", INFO("0000:02:03.0")]);
      assert.equal(runtime.execSpecs[1]?.env, undefined, "an exec without env gets none");
    } finally {
      await container.remove();
    }
  });
});
