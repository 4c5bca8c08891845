import { native } from "./native.js";

/**
 * glibc keeps what the agent frees on its C heap (Node's buffers, libuv's and V8's own allocations) and
 * gives pages back only from the heap's top. After a burst of 200 containers, 3 MiB of it stayed
 * resident for good (bench:density); malloc_trim returns every free page. It runs once the agent has
 * been quiet for `QUIET_MS` after the last call to `trimMemorySoon`, never in a burst.
 */
const QUIET_MS = 5000;

let timer: NodeJS.Timeout | undefined;

/** Trims the C heap (`trim`) once `quietMs` have passed without another call. */
export function trimMemorySoon(quietMs = QUIET_MS, trim = () => native().trimMemory()): void {
  if (timer) {
    timer.refresh();
    return;
  }
  timer = setTimeout(() => {
    timer = undefined;
    trim();
  }, quietMs);
  timer.unref();
}
