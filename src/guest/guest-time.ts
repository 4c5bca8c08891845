import { AgentError, Code } from "../errors.js";

/**
 * The first second the kernel refuses to set: TIME_SETTOD_SEC_MAX, KTIME_SEC_MAX (2262-04-11, where a
 * 64-bit nanosecond ktime ends) less 30 years of uptime headroom, i.e. 2232-04-18T23:47:16Z.
 */
export const GUEST_TIME_END_SEC = 8_277_292_036n;

const USEC_PER_SEC = 1_000_000n;

/**
 * SetGuestDateTime's `Sec` and `Usec`, checked against what settimeofday(2) accepts, as numbers. Sec 0 is
 * refused too: it is what an empty request carries (proto3 zero values), never a time a host means.
 */
export function checkedGuestTime(sec: bigint, usec: bigint): { sec: number; usec: number } {
  if (usec < 0n || usec >= USEC_PER_SEC) {
    throw new AgentError(
      Code.INVALID_ARGUMENT,
      `SetGuestDateTime: Usec ${usec} is not a microsecond count within a second (0 to 999999)`,
    );
  }
  if (sec < 0n) {
    throw new AgentError(
      Code.INVALID_ARGUMENT,
      `SetGuestDateTime: Sec ${sec} is before 1970-01-01T00:00:00Z, which the guest clock cannot show`,
    );
  }
  if (sec === 0n) {
    throw new AgentError(
      Code.INVALID_ARGUMENT,
      "SetGuestDateTime: Sec 0 is the Unix epoch itself, what a request without a time carries; not setting the clock to 1970",
    );
  }
  if (sec >= GUEST_TIME_END_SEC) {
    throw new AgentError(
      Code.INVALID_ARGUMENT,
      `SetGuestDateTime: Sec ${sec} is at or after ${new Date(Number(GUEST_TIME_END_SEC) * 1000).toISOString()} ` +
        `(${GUEST_TIME_END_SEC} s), beyond which Linux refuses to set the clock`,
    );
  }
  return { sec: Number(sec), usec: Number(usec) };
}
