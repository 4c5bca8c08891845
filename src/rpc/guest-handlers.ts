import type { GuestService } from "../guest/guest-service.js";
import type { AgentService } from "../protocol/gen/agent_pb.js";
import type { ServiceImpl } from "./router.js";

export function guestHandlers(guest: GuestService): ServiceImpl<typeof AgentService.method> {
  return {
    getGuestDetails: (req) => guest.details(req),
    setGuestDateTime: (req) => {
      guest.setDateTime(req.Sec, req.Usec);
      return {};
    },
    addSwap: async (req, ctx) => {
      await guest.addSwap(req.PCIPath, ctx.signal);
      return {};
    },
    addSwapPath: async (req, ctx) => {
      await guest.addSwapPath(req.path, ctx.signal);
      return {};
    },
    reseedRandomDev: (req) => {
      guest.reseedRandom(req.data);
      return {};
    },
    onlineCPUMem: async (req, ctx) => {
      await guest.onlineCpuMem(req, ctx.signal);
      return {};
    },
    memHotplugByProbe: async (req) => {
      await guest.probeMemory(req.memHotplugProbeAddr);
      return {};
    },
    copyFile: async (req) => {
      await guest.copyFile(req);
      return {};
    },
  };
}
