import { createRequire } from "node:module";

/** The functions of berth's native addon (native/berth_native.c). */
interface NativeAddon {
  vsockListen(cid: number, port: number, backlog: number): number;
  unixListen(address: Buffer, backlog: number): number;
}

const ADDON_PATH = "../../../build/Release/berth_native.node";

let addon: NativeAddon | undefined;

/** Loads the addon on first use, so code that never needs it runs without it. */
export function native(): NativeAddon {
  if (!addon) {
    try {
      addon = createRequire(import.meta.url)(ADDON_PATH) as NativeAddon;
    } catch (error) {
      throw new Error(`cannot load berth's native addon (${ADDON_PATH}); run "npm ci" to build it`, {
        cause: error,
      });
    }
  }
  return addon;
}
