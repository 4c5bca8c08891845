import { AgentError, Code } from "../errors.js";

interface Undo {
  description: string;
  run: () => unknown;
}

/**
 * The undo steps of something being built: each creating step pushes its undo; a failure unwinds them in
 * reverse, and success hands the stack to the object, whose removal unwinds the same steps.
 */
export class CleanupStack {
  #undos: Undo[] = [];

  /** Records how to undo a step that just succeeded. */
  push(description: string, run: () => unknown): void {
    this.#undos.push({ description, run });
  }

  get size(): number {
    return this.#undos.length;
  }

  /** Moves every undo step into a new stack, leaving this one empty. */
  transfer(): CleanupStack {
    const next = new CleanupStack();
    next.#undos = this.#undos;
    this.#undos = [];
    return next;
  }

  /**
   * Runs every undo step, newest first, even after one fails; then, if any failed, throws one AgentError
   * naming each failure.
   */
  async unwind(): Promise<void> {
    const failures: string[] = [];
    const causes: unknown[] = [];
    for (const undo of this.#undos.splice(0).reverse()) {
      try {
        await undo.run();
      } catch (error) {
        failures.push(`${undo.description}: ${AgentError.from(error).message}`);
        causes.push(error);
      }
    }
    if (failures.length > 0) {
      throw new AgentError(Code.INTERNAL, `cleanup failed: ${failures.join("; ")}`, {
        cause: new AggregateError(causes),
      });
    }
  }
}
