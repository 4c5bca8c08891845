import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { AgentError, Code } from "../errors.js";
import { CgroupStatsSchema, CreateContainerRequestSchema, WaitProcessRequestSchema } from "./gen/agent_pb.js";
import { scanMessage } from "./protobuf-scan.js";

const LIMITS = { maxFields: 100_000, maxDepth: 32 };

function varint(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const low = n % 128;
    n = Math.floor(n / 128);
    if (n === 0) return [...out, low];
    out.push(low | 0x80);
  }
}

const tag = (no: number, wireType: number) => varint(no * 8 + wireType);
const len = (no: number, body: readonly number[]) => [...tag(no, 2), ...varint(body.length), ...body];
const text = (s: string) => [...Buffer.from(s)];
const bytes = (...parts: (readonly number[])[]) => Uint8Array.from(parts.flat());

function refusal(code: Code, pattern: RegExp) {
  return (error: unknown) =>
    error instanceof AgentError && error.code === code && pattern.test(error.message);
}

describe("scanMessage()", () => {
  it("counts fields, nested messages, map entries and packed elements as decoding builds them", () => {
    // CreateContainerRequest{container_id, OCI{Process{User{UID, AdditionalGids [1,2,300] packed}, Env x2},
    // Annotations{a: b}}}
    const user = [...tag(1, 0), 0, ...len(3, [1, 2, ...varint(300)])];
    const process = [...len(3, user), ...len(5, text("A=1")), ...len(5, text("B=2"))];
    const annotation = [...len(1, text("a")), ...len(2, text("b"))];
    const spec = [...len(2, process), ...len(7, annotation)];
    const wire = bytes(len(1, text("c1")), len(6, spec));
    assert.deepEqual(scanMessage(CreateContainerRequestSchema, wire, LIMITS), {
      fields: 2 + 1 + 2 + 2 + 2 + 3 + 2,
      messages: 4,
    });
    const decoded = fromBinary(CreateContainerRequestSchema, wire);
    assert.deepEqual(decoded.OCI?.Process?.User?.AdditionalGids, [1, 2, 300]);
  });

  it("follows map values that are messages", () => {
    const hugetlb = [...tag(1, 0), 5];
    const entry = [...len(1, text("2MB")), ...len(2, hugetlb)];
    const wire = bytes(len(5, entry), len(5, entry));
    assert.deepEqual(scanMessage(CgroupStatsSchema, wire, LIMITS), { fields: 8, messages: 4 });
  });

  it("review #8: refuses the 4 MiB request of 2 million empty storages, stopping at the limit", () => {
    const count = Math.floor(((4 << 20) - 200) / 2);
    const wire = new Uint8Array(4 + count * 2);
    wire.set(len(1, text("c1")));
    for (let i = 4; i < wire.length; i += 2) wire[i] = 0x2a;
    const start = performance.now();
    assert.throws(
      () => scanMessage(CreateContainerRequestSchema, wire, LIMITS),
      refusal(
        Code.RESOURCE_EXHAUSTED,
        /^it has more than 100000 fields \(the limit\) by byte 200002 of \d+$/,
      ),
    );
    assert.ok(performance.now() - start < 50, "the scan stops at the limit");
  });

  it("review #8: counts each element of a packed field, so a field of a million varints is refused", () => {
    const gids = new Array<number>(1_000_000).fill(1);
    const wire = bytes(len(6, len(2, len(3, len(3, gids)))));
    assert.throws(
      () => scanMessage(CreateContainerRequestSchema, wire, LIMITS),
      refusal(Code.RESOURCE_EXHAUSTED, /^it has more than 100000 fields \(the limit\)/),
    );
  });

  it("review #8: refuses nesting deeper than the limit, through groups of unknown fields too", () => {
    const nested = (depth: number) => [
      ...new Array<number[]>(depth).fill(tag(15, 3)).flat(),
      ...new Array<number[]>(depth).fill(tag(15, 4)).flat(),
    ];
    assert.deepEqual(scanMessage(WaitProcessRequestSchema, bytes(nested(31)), LIMITS), {
      fields: 31,
      messages: 31,
    });
    assert.throws(
      () => scanMessage(WaitProcessRequestSchema, bytes(nested(32)), LIMITS),
      refusal(Code.INVALID_ARGUMENT, /nests deeper than 32 levels/),
    );
    const million = bytes(new Array<number>(1_000_000).fill(0x7b));
    assert.throws(
      () => scanMessage(WaitProcessRequestSchema, million, LIMITS),
      refusal(Code.INVALID_ARGUMENT, /nests deeper than 32 levels/),
    );
    const spec = len(6, len(8, len(4, len(1, [...tag(1, 0), 1]))));
    assert.throws(
      () => scanMessage(CreateContainerRequestSchema, bytes(spec), { ...LIMITS, maxDepth: 4 }),
      refusal(Code.INVALID_ARGUMENT, /nests deeper than 4 levels/),
    );
  });

  it("refuses truncated and malformed input with INVALID_ARGUMENT", () => {
    const cases: [number[], RegExp][] = [
      [[...tag(1, 2), 10, 0x61], /field 1 at byte 0 runs past the end of its message \(byte 3\)/],
      [
        [...tag(6, 2), 4, ...tag(2, 2), 9, 0, 0],
        /field 2 at byte 2 runs past the end of its message \(byte 6\)/,
      ],
      [[...tag(1, 0), 0x80, 0x80], /a varint cut off or longer than 10 bytes at byte 1/],
      [[0x80], /a varint cut off at byte 1/],
      [[...tag(3, 1), 1, 2, 3], /field 3 at byte 0 runs past the end/],
      [[...tag(9, 3), ...tag(1, 0), 1], /group 9 never ends/],
      [[...tag(9, 4)], /an end of group 9 at byte 0 that no group opened/],
      [[...tag(2, 6), 0], /wire type 6 of field 2 at byte 0/],
      [[0x00, 0x01], /field number 0 at byte 0/],
    ];
    for (const [wire, why] of cases) {
      assert.throws(
        () => scanMessage(CreateContainerRequestSchema, bytes(wire), LIMITS),
        refusal(Code.INVALID_ARGUMENT, why),
        `${Buffer.from(wire).toString("hex")} should match ${why}`,
      );
    }
  });

  it("passes a large real-world spec: a Docker-sized seccomp profile, a hundred env vars, mounts and annotations", () => {
    const names = Array.from({ length: 420 }, (_, i) => `syscall_${i}`);
    const request = create(CreateContainerRequestSchema, {
      containerId: "c".repeat(64),
      OCI: {
        Process: {
          Args: ["/bin/sh", "-c", "sleep 1000"],
          Env: Array.from({ length: 100 }, (_, i) => `V${i}=x`),
        },
        Mounts: Array.from({ length: 30 }, (_, i) => ({
          destination: `/m/${i}`,
          source: `/s/${i}`,
          type: "bind",
          options: ["rbind", "ro", "nosuid", "nodev"],
        })),
        Annotations: Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`io.k8s/${i}`, "v"])),
        Linux: {
          Seccomp: {
            DefaultAction: "SCMP_ACT_ERRNO",
            Architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
            Syscalls: [
              { Names: names.slice(0, 360), Action: "SCMP_ACT_ALLOW" },
              ...Array.from({ length: 35 }, (_, i) => ({
                Names: names.slice(360 + i, 362 + i),
                Action: "SCMP_ACT_ALLOW",
                Args: [{ Index: 0n, Value: BigInt(i), Op: "SCMP_CMP_EQ" }],
              })),
            ],
          },
        },
      },
    });
    const counts = scanMessage(
      CreateContainerRequestSchema,
      toBinary(CreateContainerRequestSchema, request),
      LIMITS,
    );
    assert.ok(counts.fields > 900 && counts.fields < 2_000, `${counts.fields} fields`);
  });
});
