import type { PciPair } from "./device-spec.js";
import { escapeRegExp } from "./escape-regexp.js";
import { parsePciAddress } from "./pci-address.js";

const PREFIX = "PCIDEVICE_";
const INFO = "_INFO";

/** Why a `PCIDEVICE_*` variable was left as it was. */
export interface UntranslatedPciVariable {
  name: string;
  /** The host address no device of the container passed through. */
  address: string;
}

/**
 * `env` ("NAME=value" entries) with the host PCI addresses that the SR-IOV device plugin put in
 * `PCIDEVICE_<X>` (a comma-separated list) replaced by the guest's addresses of the same functions, and
 * each such variable's `PCIDEVICE_<X>_INFO` (JSON) given the same replacements, in one pass so that one
 * function's guest address that is another's host address is not replaced twice. A variable whose every
 * element is not a PCI address (a scalable function's name) is left alone, as is one naming an address
 * `pairs` lacks (`onUntranslated` is told), together with its `_INFO`: never half translated. Kata's
 * `update_env_pci`.
 */
export function rewritePciEnv(
  env: readonly string[],
  pairs: readonly PciPair[],
  onUntranslated?: (why: UntranslatedPciVariable) => void,
): string[] {
  const guestOf = new Map<string, string>();
  for (const [host, guest] of pairs) {
    const key = parsePciAddress(host);
    if (key !== undefined && !guestOf.has(key)) guestOf.set(key, guest);
  }
  const infoReplacements = new Map<string, Map<string, string>>();
  const translated = env.map((entry) => {
    const { name, value } = split(entry);
    if (name === undefined || !name.startsWith(PREFIX) || name.endsWith(INFO)) return entry;
    const hosts = value.split(",");
    if (hosts.some((host) => parsePciAddress(host) === undefined)) return entry;
    const replacements = new Map<string, string>();
    for (const host of hosts) {
      const guest = guestOf.get(parsePciAddress(host) ?? "");
      if (guest === undefined) {
        onUntranslated?.({ name, address: host });
        return entry;
      }
      replacements.set(host, guest);
    }
    infoReplacements.set(`${name}${INFO}`, replacements);
    return `${name}=${hosts.map((host) => replacements.get(host)).join(",")}`;
  });
  return translated.map((entry) => {
    const { name, value } = split(entry);
    const replacements = name === undefined ? undefined : infoReplacements.get(name);
    return replacements ? `${name}=${replaceAll(value, replacements)}` : entry;
  });
}

function split(entry: string): { name: string | undefined; value: string } {
  const eq = entry.indexOf("=");
  return eq < 0 ? { name: undefined, value: "" } : { name: entry.slice(0, eq), value: entry.slice(eq + 1) };
}

function replaceAll(text: string, replacements: ReadonlyMap<string, string>): string {
  const keys = [...replacements.keys()].sort((a, b) => b.length - a.length).map(escapeRegExp);
  return text.replace(new RegExp(keys.join("|"), "g"), (found) => replacements.get(found) ?? found);
}
