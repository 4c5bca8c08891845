import { AgentError, Code } from "../errors.js";
import { allowDevice } from "../oci/device-rules.js";
import type { Int64, LinuxDevice, LinuxDeviceCgroup, Spec } from "../oci/oci-spec.js";
import { DEVICE_HANDLERS } from "./device-handlers.js";
import type {
  DeviceContext,
  DeviceHandler,
  DeviceSpec,
  DeviceUpdate,
  GuestDevice,
  PciPair,
} from "./device-spec.js";
import { deviceName } from "./guest-dev-path.js";

export type { DeviceContext, DeviceSpec, GuestDevice, PciPair } from "./device-spec.js";
export { rewritePciEnv, type UntranslatedPciVariable } from "./pci-env.js";
export { guestRootDeviceRule } from "./root-device.js";

/** A device checked against the spec: its handler and the `linux.devices[]` entry it replaces (-1: none). */
interface Planned {
  device: DeviceSpec;
  handler: DeviceHandler;
  entry: number;
}

/**
 * Sets up the container's devices (CreateContainer's `devices`) and edits the spec to match, in place:
 * each device's `linux.devices[]` entry (matched by `containerPath`) gets the guest node's type and
 * major/minor (and its path, where the guest's differs: VFIO groups); device-cgroup rules that named the
 * host's numbers for it are rewritten the same way; and an allow rule "rwm" for the guest node is
 * appended, `linux.resources` made if the spec had none. Every device is checked (INVALID_ARGUMENT) and
 * found in the guest (waiting for it up to `ctx.timeoutMs`) before the spec is touched, so on failure the
 * spec is as it was. Returns the host→guest PCI addresses of every device, for `PCIDEVICE_*`.
 */
export async function applyDevices(
  spec: Spec,
  devices: readonly DeviceSpec[],
  ctx: DeviceContext,
  handlers: ReadonlyMap<string, DeviceHandler> = DEVICE_HANDLERS,
): Promise<PciPair[]> {
  const planned = devices.map((device, index) => plan(spec, device, index, handlers));
  const twice = planned.find(
    (p, i) => p.entry >= 0 && planned.findIndex((other) => other.entry === p.entry) !== i,
  );
  if (twice) {
    throw new AgentError(
      Code.INVALID_ARGUMENT,
      `${deviceName(twice.device)}: another device of the request has the same container_path`,
    );
  }
  const updates: DeviceUpdate[] = [];
  for (const p of planned) updates.push(await p.handler.setUp(p.device, ctx));
  rewrite(spec, planned, updates);
  return updates.flatMap((u) => u.pci);
}

function plan(
  spec: Spec,
  device: DeviceSpec,
  index: number,
  handlers: ReadonlyMap<string, DeviceHandler>,
): Planned {
  const { type, id, vmPath } = device;
  const label = `devices[${index}] (type ${q(type)}, id ${q(id)}, vm_path ${q(vmPath)})`;
  const invalid = (why: string) => new AgentError(Code.INVALID_ARGUMENT, `${label}: ${why}`);
  if (!type) throw invalid("it has no type");
  if (!id && !vmPath) throw invalid("it has neither an id nor a vm_path");
  if (!device.containerPath) throw invalid("it has no container_path");
  const handler = handlers.get(type);
  if (!handler) throw invalid(`unknown device type ${q(type)} (known: ${[...handlers.keys()].join(", ")})`);
  const entries = spec.linux?.devices ?? [];
  const entry = entries.findIndex((d) => d.path === device.containerPath);
  if (!handler.specEntry) return { device, handler, entry: -1 };
  if (entry < 0) {
    throw new AgentError(
      Code.INVALID_ARGUMENT,
      `${deviceName(device)}: the spec has no linux.devices entry with path ${q(device.containerPath)}`,
    );
  }
  if (entries.some((d, i) => i > entry && d.path === device.containerPath)) {
    throw new AgentError(
      Code.INVALID_ARGUMENT,
      `${deviceName(device)}: the spec has more than one linux.devices entry with that path`,
    );
  }
  return { device, handler, entry };
}

/**
 * Applies every change computed from the spec as it was, so that a rule is rewritten at most once even
 * when one device's guest numbers are another's host numbers.
 */
function rewrite(spec: Spec, planned: readonly Planned[], updates: readonly DeviceUpdate[]) {
  const entries = spec.linux?.devices ?? [];
  const hosts = planned.map((p) => (p.entry >= 0 ? entries[p.entry] : undefined));
  const found = updates.map((u) => u.node);
  for (const [i, p] of planned.entries()) {
    const host = hosts[i];
    const update = updates[i];
    if (!host || !update?.node) continue;
    entries[p.entry] = {
      ...host,
      ...numbers(update.node),
      ...(update.finalPath ? { path: update.finalPath } : {}),
    };
  }
  const rules = spec.linux?.resources?.devices ?? [];
  for (const [r, rule] of rules.entries()) {
    const guest = found[hosts.findIndex((host) => host !== undefined && namesHostDevice(rule, host))];
    if (guest) rules[r] = { ...rule, ...numbers(guest) };
  }
  for (const guest of found) if (guest) allowDevice(spec, { ...numbers(guest), access: "rwm" });
}

const numbers = ({ type, major, minor }: GuestDevice) => ({ type, major, minor });

/** Whether a cgroup rule names exactly the (host) device of a spec entry. */
function namesHostDevice(rule: LinuxDeviceCgroup, host: LinuxDevice): boolean {
  return rule.type === host.type && same(rule.major, host.major) && same(rule.minor, host.minor);
}

const same = (a: Int64 | undefined, b: Int64 | undefined) =>
  a !== undefined && b !== undefined && BigInt(a) === BigInt(b);

const q = (text: string) => JSON.stringify(text);
