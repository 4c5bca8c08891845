import { AgentError } from "../errors.js";
import { native } from "./native.js";

/**
 * Sets the guest's CLOCK_REALTIME (settimeofday(2)). The kernel's refusals keep their meaning: a value it
 * does not accept is INVALID_ARGUMENT (EINVAL), a caller without CAP_SYS_TIME PERMISSION_DENIED (EPERM).
 */
export function setRealtimeClock(sec: number, usec: number): void {
  try {
    native().setTimeOfDay(sec, usec);
  } catch (error) {
    throw AgentError.wrap(error, `cannot set the guest clock to ${sec} s ${usec} µs`);
  }
}
