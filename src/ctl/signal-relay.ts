/** The signals berthctl passes on to the container's process (or that cancel a run not yet started). */
export const RELAYED_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
export type RelayedSignal = (typeof RELAYED_SIGNALS)[number];

/**
 * Takes over SIGINT, SIGTERM and SIGHUP for the lifetime of a run or exec: each one goes to the
 * current `handler`, which the command swaps as it moves from setting up to running.
 */
export class SignalRelay {
  handler: (signal: RelayedSignal) => void;
  readonly #listeners = new Map<RelayedSignal, () => void>();

  constructor(handler: (signal: RelayedSignal) => void) {
    this.handler = handler;
    for (const signal of RELAYED_SIGNALS) {
      const listener = () => this.handler(signal);
      this.#listeners.set(signal, listener);
      process.on(signal, listener);
    }
  }

  dispose(): void {
    for (const [signal, listener] of this.#listeners) process.off(signal, listener);
    this.#listeners.clear();
  }
}
