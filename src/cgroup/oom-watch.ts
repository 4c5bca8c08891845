import {
  closeSync,
  constants,
  existsSync,
  type FSWatcher,
  openSync,
  readFileSync,
  readSync,
  watch,
  writeSync,
} from "node:fs";
import type { Logger } from "../log.js";
import { type FdPoll, native } from "../sys/native.js";
import type { CgroupDir } from "./cgroup-dirs.js";
import { parseFlatKeyed } from "./stat-files.js";

/** A watch on one memory cgroup; `close` first reports an OOM the kernel has signalled but was not read yet. */
export interface OomWatch {
  close(): void;
}

/**
 * Watches a memory cgroup and calls `onOom` when the OOM killer acts in it. Register it before the
 * cgroup's processes can allocate (before `runc start`) so no OOM comes too early to be seen. Neither
 * version costs a thread: v1 is an eventfd polled on Node's loop, v2 one inotify watch.
 */
export function watchOom(memory: CgroupDir, onOom: () => void, log: Logger): Promise<OomWatch> {
  return memory.version === 1 ? watchV1(memory, onOom, log) : Promise.resolve(watchV2(memory, onOom, log));
}

/**
 * cgroup v1: an eventfd registered through `cgroup.event_control` for `memory.oom_control`. The kernel
 * signals it when the cgroup goes OOM, and also when the cgroup is removed: a signal with the cgroup gone
 * is a removal, not an OOM. Signals that pile up before a read count as one OOM.
 */
async function watchV1({ dir }: CgroupDir, onOom: () => void, log: Logger): Promise<OomWatch> {
  const eventfd = native().eventfd();
  try {
    // Synchronous: cgroupfs files the kernel serves at once, on the path of every StartContainer, where
    // the thread pool took five round trips.
    const control = openSync(`${dir}/memory.oom_control`, "r");
    try {
      const events = openSync(`${dir}/cgroup.event_control`, constants.O_WRONLY);
      try {
        writeSync(events, `${eventfd} ${control}`);
      } finally {
        closeSync(events);
      }
    } finally {
      closeSync(control);
    }
  } catch (error) {
    closeSync(eventfd);
    throw error;
  }
  const counter = Buffer.alloc(8);
  let poll: FdPoll | undefined;
  const end = () => {
    if (!poll) return;
    poll.stop();
    poll = undefined;
    closeSync(eventfd);
  };
  // Synchronous, so close() never overlaps a check in flight.
  const check = () => {
    try {
      readSync(eventfd, counter);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EAGAIN") return;
      log.warn({ dir, err: error }, "cannot read the OOM eventfd: the OOM watch ends");
      end();
      return;
    }
    if (!existsSync(`${dir}/memory.oom_control`)) {
      log.debug({ dir }, "memory cgroup removed: the OOM watch ends");
      end();
      return;
    }
    onOom();
  };
  try {
    poll = native().pollFd(eventfd, native().constants.POLL_READABLE, (error) => {
      if (!error) return check();
      log.warn({ dir, err: error }, "polling the OOM eventfd failed: the OOM watch ends");
      end();
    });
  } catch (error) {
    closeSync(eventfd);
    throw error;
  }
  return {
    close() {
      if (poll) check();
      end();
    },
  };
}

/**
 * cgroup v2: an inotify watch on `memory.events`; each change whose `oom_kill` count is above the last
 * one seen is one OOM. Other changes (`max`, `high`, `oom` without a kill) are not.
 */
function watchV2({ dir }: CgroupDir, onOom: () => void, log: Logger): OomWatch {
  const file = `${dir}/memory.events`;
  let seen = oomKillCount(readFileSync(file, "utf8"));
  let watcher: FSWatcher | undefined;
  const end = () => {
    watcher?.close();
    watcher = undefined;
  };
  const check = () => {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (error) {
      log.debug({ dir, err: error }, "memory cgroup gone: the OOM watch ends");
      end();
      return;
    }
    const kills = oomKillCount(text);
    if (kills > seen) {
      seen = kills;
      onOom();
    }
  };
  watcher = watch(file, { persistent: false }, check);
  watcher.on("error", (error) => {
    log.warn({ dir, err: error }, "watching memory.events failed: the OOM watch ends");
    end();
  });
  return {
    close() {
      if (watcher) check();
      end();
    },
  };
}

/** The `oom_kill` count of cgroup v2 memory.events: how many processes the OOM killer has killed in the cgroup. */
export const oomKillCount = (text: string): bigint => parseFlatKeyed(text).get("oom_kill") ?? 0n;
