import { AgentError, Code } from "../errors.js";
import type { Int64, LinuxBlockIO } from "../oci/oci-spec.js";

/** One block-IO rate limit: bytes or operations per second, read or write, on device "MAJ:MIN"; 0 lifts it. */
export interface Throttle {
  kind: "rbps" | "wbps" | "riops" | "wiops";
  device: string;
  rate: bigint;
}

const KINDS = [
  ["throttleReadBpsDevice", "rbps"],
  ["throttleWriteBpsDevice", "wbps"],
  ["throttleReadIOPSDevice", "riops"],
  ["throttleWriteIOPSDevice", "wiops"],
] as const;

const V1_FILE: Readonly<Record<Throttle["kind"], string>> = {
  rbps: "blkio.throttle.read_bps_device",
  wbps: "blkio.throttle.write_bps_device",
  riops: "blkio.throttle.read_iops_device",
  wiops: "blkio.throttle.write_iops_device",
};

/** The throttles of `blockIO`, checked: INVALID_ARGUMENT for a device number or rate that cannot be one. */
export function throttlesOf(blockIO: LinuxBlockIO | undefined): Throttle[] {
  const throttles: Throttle[] = [];
  for (const [member, kind] of KINDS) {
    for (const t of blockIO?.[member] ?? []) {
      const device = `${deviceNumber(t.major, "major")}:${deviceNumber(t.minor, "minor")}`;
      const rate = BigInt(t.rate);
      if (rate < 0n) throw invalid(`${member} rate ${rate} for ${device} is negative`);
      throttles.push({ kind, device, rate });
    }
  }
  return throttles;
}

/** What a throttle sets; a later throttle with the same key replaces it. */
export const throttleKey = (t: Throttle) => `${t.device} ${t.kind}`;

/**
 * The cgroup file and line that set a throttle: in v1 "MAJ:MIN RATE" in blkio.throttle.<kind>, in v2
 * "MAJ:MIN rbps=RATE" (wbps, riops, wiops; "max" for none) in io.max.
 */
export function throttleWrite(t: Throttle, version: 1 | 2): { file: string; line: string } {
  if (version === 1) return { file: V1_FILE[t.kind], line: `${t.device} ${t.rate}` };
  return { file: "io.max", line: `${t.device} ${t.kind}=${t.rate === 0n ? "max" : t.rate}` };
}

function deviceNumber(n: Int64, what: string): string {
  const value = BigInt(n);
  if (value < 0n || value > 0xffffffffn) throw invalid(`${what} device number ${value} is out of range`);
  return String(value);
}

function invalid(why: string): AgentError {
  return new AgentError(Code.INVALID_ARGUMENT, `block IO throttle: ${why}`);
}
