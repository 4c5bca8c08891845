import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { PciPair } from "./device-spec.js";
import { rewritePciEnv, type UntranslatedPciVariable } from "./pci-env.js";

/** Kata's example (update_env_pci's test), the third pair's host address being the first's guest address. */
const PAIRS: PciPair[] = [
  ["0000:1a:01.0", "0000:01:01.0"],
  ["0000:1b:02.0", "0000:01:02.0"],
  ["0000:01:01.0", "ffff:02:1f.7"],
];

describe("rewritePciEnv()", () => {
  it("translates each list and its _INFO, never twice, and leaves other variables alone", () => {
    const info = (a: string, b: string) =>
      `PCIDEVICE_x_INFO={"${a}":{"generic":{"deviceID":"${a}"}},"${b}":{"generic":{"deviceID":"${b}"}}}`;
    const env = [
      "PCIDEVICE_x=0000:1a:01.0,0000:1b:02.0",
      info("0000:1a:01.0", "0000:1b:02.0"),
      "PCIDEVICE_y=0000:01:01.0",
      "NOTAPCIDEVICE_blah=abcd:ef:01.0",
      "PATH=/bin",
    ];
    assert.deepEqual(rewritePciEnv(env, PAIRS), [
      "PCIDEVICE_x=0000:01:01.0,0000:01:02.0",
      info("0000:01:01.0", "0000:01:02.0"),
      "PCIDEVICE_y=ffff:02:1f.7",
      "NOTAPCIDEVICE_blah=abcd:ef:01.0",
      "PATH=/bin",
    ]);
    assert.equal(env[0], "PCIDEVICE_x=0000:1a:01.0,0000:1b:02.0", "the input is not changed");
  });

  it("leaves a variable that is not a list of PCI addresses, and its _INFO, alone", () => {
    const env = [
      "PCIDEVICE_NVIDIA_COM_BF_SF=mlx5_core.sf.10",
      'PCIDEVICE_NVIDIA_COM_BF_SF_INFO={"mlx5_core.sf.10":{}}',
      "PCIDEVICE_MIXED=0000:1a:01.0,mlx5_core.sf.10",
      "PCIDEVICE_EMPTY=",
      "PCIDEVICE_REAL=0000:1a:01.0",
    ];
    assert.deepEqual(rewritePciEnv(env, PAIRS), [...env.slice(0, 4), "PCIDEVICE_REAL=0000:01:01.0"]);
  });

  it("never half translates: an address no device passed through leaves the list and its _INFO as they are", () => {
    const env = [
      "PCIDEVICE_RES=0000:1a:01.0,0000:99:1f.7",
      'PCIDEVICE_RES_INFO={"0000:1a:01.0":{},"0000:99:1f.7":{}}',
    ];
    const told: UntranslatedPciVariable[] = [];
    assert.deepEqual(
      rewritePciEnv(env, PAIRS, (why) => told.push(why)),
      env,
    );
    assert.deepEqual(told, [{ name: "PCIDEVICE_RES", address: "0000:99:1f.7" }]);
    assert.deepEqual(rewritePciEnv(env, []), env, "a container with no PCI devices");
  });

  it("reads host addresses in any case and spelling, and replaces them in _INFO as written", () => {
    const env = ["PCIDEVICE_U=0000:1A:01.0", 'PCIDEVICE_U_INFO={"0000:1A:01.0":{}}'];
    assert.deepEqual(rewritePciEnv(env, PAIRS), [
      "PCIDEVICE_U=0000:01:01.0",
      'PCIDEVICE_U_INFO={"0000:01:01.0":{}}',
    ]);
  });

  it("gives an _INFO only its own variable's replacements, and keeps entries without '='", () => {
    const env = [
      "PCIDEVICE_A=0000:1b:02.0",
      'PCIDEVICE_B_INFO={"0000:1b:02.0":{}}',
      'PCIDEVICE_A_INFO={"0000:1b:02.0":{},"0000:1a:01.0":{}}',
      "JUSTANAME",
    ];
    assert.deepEqual(rewritePciEnv(env, PAIRS), [
      "PCIDEVICE_A=0000:01:02.0",
      'PCIDEVICE_B_INFO={"0000:1b:02.0":{}}',
      'PCIDEVICE_A_INFO={"0000:01:02.0":{},"0000:1a:01.0":{}}',
      "JUSTANAME",
    ]);
  });
});
