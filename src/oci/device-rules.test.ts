import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { allowDevice, denyDevice } from "./device-rules.js";
import type { Spec } from "./oci-spec.js";

const base = (): Spec => ({ ociVersion: "1.0.2" });

describe("allowDevice() / denyDevice()", () => {
  it("appends rules after the existing ones, creating linux.resources.devices", () => {
    const spec = base();
    denyDevice(spec, { type: "b", major: 254, minor: 0, access: "rwm" });
    allowDevice(spec, { type: "c", major: 1, minor: 3, access: "rwm" });
    allowDevice(spec, { type: "c", major: 2n ** 60n });
    denyDevice(spec, {});
    assert.deepEqual(spec.linux?.resources?.devices, [
      { allow: false, type: "b", major: 254, minor: 0, access: "rwm" },
      { allow: true, type: "c", major: 1, minor: 3, access: "rwm" },
      { allow: true, type: "c", major: 2n ** 60n },
      { allow: false },
    ]);
  });

  it("decides allow or deny itself, whatever the rule it is given says", () => {
    const spec: Spec = { ...base(), linux: { resources: { devices: [{ allow: false, access: "rwm" }] } } };
    const rule = { allow: true, type: "b", major: 7, minor: 0, access: "rwm" };
    denyDevice(spec, rule);
    assert.deepEqual(spec.linux?.resources?.devices, [
      { allow: false, access: "rwm" },
      { allow: false, type: "b", major: 7, minor: 0, access: "rwm" },
    ]);
  });
});
