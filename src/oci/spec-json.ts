import { AgentError, Code } from "../errors.js";

/** Nesting deeper than this is not a spec; a cycle is caught by the ancestor check first. */
const MAX_DEPTH = 64;

/**
 * Serialises a spec (or any JSON-shaped value) like `JSON.stringify(value, null, indent)`, except that
 * a bigint is printed as its exact digits: runtime-spec's uint64 members (RLIM_INFINITY, seccomp masks)
 * do not fit a double. As with JSON.stringify, an undefined member is skipped and an undefined array
 * element is null; `toJSON` is not consulted. Throws INVALID_ARGUMENT, naming the member, for a value
 * JSON cannot hold exactly (NaN, Infinity, a function, a symbol) and for a cycle.
 */
export function specToJson(value: unknown, indent = 0): string {
  const text = write(value, "$", "", " ".repeat(Math.min(Math.max(indent, 0), 10)), new Set());
  if (text === undefined) throw bad("$", "is undefined");
  return text;
}

type Parents = Set<object>;

function write(value: unknown, at: string, pad: string, step: string, parents: Parents): string | undefined {
  switch (typeof value) {
    case "undefined":
      return undefined;
    case "string":
    case "boolean":
      return JSON.stringify(value);
    case "bigint":
      return value.toString();
    case "number":
      if (!Number.isFinite(value)) throw bad(at, `is ${value}, which JSON cannot hold`);
      return JSON.stringify(value);
    case "object":
      if (value === null) return "null";
      if (parents.has(value)) throw bad(at, "refers back to itself");
      if (parents.size >= MAX_DEPTH) throw bad(at, `is nested deeper than ${MAX_DEPTH} levels`);
      parents.add(value);
      try {
        return container(value, at, pad, step, parents);
      } finally {
        parents.delete(value);
      }
    default:
      throw bad(at, `is a ${typeof value}, which JSON cannot hold`);
  }
}

function container(value: object, at: string, pad: string, step: string, parents: Parents): string {
  const inner = pad + step;
  const items: string[] = [];
  const isArray = Array.isArray(value);
  if (isArray) {
    const list: readonly unknown[] = value;
    for (let i = 0; i < list.length; i++) {
      items.push(write(list[i], `${at}[${i}]`, inner, step, parents) ?? "null");
    }
  } else {
    for (const [key, member] of Object.entries(value)) {
      const text = write(member, `${at}.${key}`, inner, step, parents);
      if (text !== undefined) items.push(`${JSON.stringify(key)}:${step ? " " : ""}${text}`);
    }
  }
  const [open, close] = isArray ? ["[", "]"] : ["{", "}"];
  if (items.length === 0) return open + close;
  if (!step) return `${open}${items.join(",")}${close}`;
  return `${open}\n${inner}${items.join(`,\n${inner}`)}\n${pad}${close}`;
}

function bad(at: string, why: string): AgentError {
  return new AgentError(Code.INVALID_ARGUMENT, `cannot write the OCI spec as JSON: ${at} ${why}`);
}
