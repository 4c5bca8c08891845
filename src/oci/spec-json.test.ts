import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AgentError, Code } from "../errors.js";
import type { Spec } from "./oci-spec.js";
import { specToJson } from "./spec-json.js";

const ordinary: Spec = {
  ociVersion: "1.1.0",
  process: {
    terminal: false,
    user: { uid: 0, gid: 0, additionalGids: [1, 2] },
    args: ["/bin/sh", "-c", 'echo "quoted" \\ back\nslash \u2028 ü'],
    env: ["PATH=/usr/bin"],
    cwd: "/",
    rlimits: [{ type: "RLIMIT_NOFILE", hard: 1024, soft: 1024 }],
    oomScoreAdj: -998,
  },
  root: { path: "/run/kata-containers/c/rootfs", readonly: true },
  mounts: [],
  annotations: { __proto__: "data", "a.b/c": "" },
  linux: {
    namespaces: [{ type: "mount" }, { type: "ipc", path: "/var/run/sandbox-ns/ipc" }],
    resources: {
      devices: [{ allow: false, access: "rwm" }],
      memory: { limit: -1, swappiness: 0 },
      cpu: { shares: 1024, cpus: "0-1" },
    },
    sysctl: {},
  },
};

const rlimInfinity = 18446744073709551615n;

function expectInvalid(value: unknown, message: RegExp) {
  assert.throws(
    () => specToJson(value),
    (e) => e instanceof AgentError && e.code === Code.INVALID_ARGUMENT && message.test(e.message),
  );
}

describe("specToJson()", () => {
  it("writes an ordinary spec exactly as JSON.stringify does, compact and pretty", () => {
    assert.equal(specToJson(ordinary), JSON.stringify(ordinary));
    assert.equal(specToJson(ordinary, 2), JSON.stringify(ordinary, null, 2));
    assert.equal(specToJson(ordinary, 4), JSON.stringify(ordinary, null, 4));
    assert.deepEqual(JSON.parse(specToJson(ordinary)), JSON.parse(JSON.stringify(ordinary)));
  });

  it("writes scalars, empty containers and nesting like JSON.stringify", () => {
    for (const value of [
      null,
      true,
      false,
      0,
      -0,
      1.5,
      -2e-7,
      1e21,
      "",
      "x",
      [],
      {},
      [[]],
      { a: {} },
      [1, [2, [3]]],
    ]) {
      assert.equal(specToJson(value), JSON.stringify(value), `compact ${JSON.stringify(value)}`);
      assert.equal(specToJson(value, 2), JSON.stringify(value, null, 2), `pretty ${JSON.stringify(value)}`);
    }
  });

  it("skips undefined members and writes undefined or missing array elements as null", () => {
    const value = { a: undefined, b: [undefined, 1], c: 2 };
    assert.equal(specToJson(value), '{"b":[null,1],"c":2}');
    assert.equal(specToJson(value), JSON.stringify(value));
    // biome-ignore lint/suspicious/noSparseArray: a hole is what is being tested
    const sparse = [1, , 3];
    assert.equal(specToJson(sparse), JSON.stringify(sparse));
  });

  it("prints RLIM_INFINITY (18446744073709551615) verbatim", () => {
    const spec: Spec = {
      ...ordinary,
      process: {
        user: { uid: 0, gid: 0 },
        cwd: "/",
        rlimits: [{ type: "RLIMIT_MEMLOCK", hard: rlimInfinity, soft: rlimInfinity }],
      },
    };
    const json = specToJson(spec);
    assert.match(json, /"hard":18446744073709551615,"soft":18446744073709551615/);
    assert.match(specToJson(spec, 2), /"hard": 18446744073709551615,\n\s+"soft": 18446744073709551615/);
    assert.equal(JSON.parse(json).process.rlimits[0].type, "RLIMIT_MEMLOCK", "still valid JSON");
  });

  it("keeps seccomp masks and negative 64-bit values exact", () => {
    const args = [
      { index: 1, value: 0xffffffffffffffffn, valueTwo: 0x8000000000000001n, op: "SCMP_CMP_MASKED_EQ" },
      { index: 2, value: -(2n ** 63n), op: "SCMP_CMP_EQ" },
    ];
    assert.equal(
      specToJson(args),
      '[{"index":1,"value":18446744073709551615,"valueTwo":9223372036854775809,"op":"SCMP_CMP_MASKED_EQ"},' +
        '{"index":2,"value":-9223372036854775808,"op":"SCMP_CMP_EQ"}]',
    );
    assert.equal(specToJson(5n), "5");
    assert.equal(specToJson(0n), "0");
  });

  it("writes only own enumerable members, keeping __proto__ as a key", () => {
    const withProto = Object.create({ inherited: 1 }) as Record<string, unknown>;
    withProto.own = 2;
    assert.equal(specToJson(withProto), '{"own":2}');
    assert.equal(specToJson(JSON.parse('{"__proto__":1}')), '{"__proto__":1}');
  });

  it("clamps the indent to 0..10 like JSON.stringify", () => {
    assert.equal(specToJson({ a: [1] }, -3), '{"a":[1]}');
    assert.equal(specToJson({ a: [1] }, 20), JSON.stringify({ a: [1] }, null, 20));
  });

  it("refuses values JSON cannot hold, naming the member", () => {
    expectInvalid(
      { linux: { resources: { cpu: { quota: Number.NaN } } } },
      /\$\.linux\.resources\.cpu\.quota is NaN/,
    );
    expectInvalid({ a: [1, Number.POSITIVE_INFINITY] }, /\$\.a\[1\] is Infinity/);
    expectInvalid({ f: () => 1 }, /\$\.f is a function/);
    expectInvalid([Symbol("s")], /\$\[0\] is a symbol/);
    expectInvalid(undefined, /\$ is undefined/);
  });

  it("refuses a cycle and absurd nesting, but not a shared (acyclic) object", () => {
    const loop: Record<string, unknown> = { a: 1 };
    loop.self = { back: loop };
    expectInvalid(loop, /\$\.self\.back refers back to itself/);
    const shared = { x: 1 };
    assert.equal(specToJson({ a: shared, b: [shared] }), '{"a":{"x":1},"b":[{"x":1}]}');
    let deep: unknown = 1;
    for (let i = 0; i < 100; i++) deep = [deep];
    expectInvalid(deep, /nested deeper than 64 levels/);
  });
});
