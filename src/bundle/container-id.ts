import { AgentError, Code } from "../errors.js";

/**
 * The id becomes one path component in several places (the bundle `/run/kata-containers/<id>`, runc's
 * state directory, the cgroup directory), and NAME_MAX for a component is 255 bytes. Kata and runc set
 * no limit of their own, so a longer id would only fail later, halfway through creating the container.
 */
export const MAX_CONTAINER_ID_LENGTH = 255;

/** Kata's rule (`verify_id`): at least 2 characters, the first alphanumeric, then `[A-Za-z0-9._-]`. */
const VALID_ID = /^[A-Za-z0-9][A-Za-z0-9._-]+$/;

/** The longest stretch of an invalid id quoted in an error message. */
const QUOTED = 64;

/**
 * Checks a container (or exec, or sandbox) id against Kata's rule plus a length cap, throwing an
 * INVALID_ARGUMENT AgentError that quotes the (truncated) value. `what` names the id in the message.
 */
export function checkContainerId(id: string, what = "container id"): void {
  if (id.length > MAX_CONTAINER_ID_LENGTH) {
    throw new AgentError(
      Code.INVALID_ARGUMENT,
      `${what} ${quote(id)} is ${id.length} characters long; the limit is ${MAX_CONTAINER_ID_LENGTH}`,
    );
  }
  if (!VALID_ID.test(id)) {
    throw new AgentError(
      Code.INVALID_ARGUMENT,
      `invalid ${what} ${quote(id)}: it must be at least 2 characters, start with a letter or digit ` +
        `and hold only letters, digits, ".", "-" and "_"`,
    );
  }
}

function quote(id: string): string {
  return id.length > QUOTED ? `${JSON.stringify(id.slice(0, QUOTED))}…` : JSON.stringify(id);
}
