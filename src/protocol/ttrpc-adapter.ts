import type { RawService } from "./raw-service.js";
import type { TtrpcServer } from "./ttrpc/server.js";

/** Registers services on a ttrpc server: its CallContext already is a RawCallContext. */
export function registerTtrpcServices(server: TtrpcServer, services: readonly RawService[]): void {
  for (const service of services) server.register(service.name, service.methods);
}
