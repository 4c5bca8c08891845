import type { AgentService } from "../protocol/gen/agent_pb.js";
import { VolumeUsage_Unit } from "../protocol/gen/csi_pb.js";
import type { StorageService } from "../storage/storage-service.js";
import type { ServiceImpl } from "./router.js";

export function storageHandlers(storage: StorageService): ServiceImpl<typeof AgentService.method> {
  return {
    getVolumeStats: async (req) => {
      const { bytes, inodes } = await storage.volumeStats(req.volumeGuestPath);
      return {
        usage: [
          { ...bytes, unit: VolumeUsage_Unit.BYTES },
          { ...inodes, unit: VolumeUsage_Unit.INODES },
        ],
        volumeCondition: { abnormal: false, message: "OK" },
      };
    },
    resizeVolume: async (req, ctx) => {
      await storage.resizeVolume(req.volumeGuestPath, req.size, ctx.signal);
      return {};
    },
    updateEphemeralMounts: async (req, ctx) => {
      await storage.updateEphemeralMounts(req.storages, ctx.signal);
      return {};
    },
    removeStaleVirtiofsShareMounts: async (_req, ctx) => {
      await storage.refreshSharedMounts(ctx.signal);
      return {};
    },
  };
}
