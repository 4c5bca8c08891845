import { AgentError } from "../errors.js";
import type { Status } from "./ttrpc/status.js";

/** The one place a wire status is built from an error; ttrpc and gRPC both answer with it. */
export function statusFromError(error: unknown): Status {
  const e = AgentError.from(error);
  return { code: e.code, message: e.message, details: [] };
}
