/**
 * The floor of bench:vm: a guest init that only opens the agent's port and answers grpc.Health/Check
 * (SERVING) over the same session layer and ttrpc as berth, nothing else.
 */
import { TtrpcServer } from "../src/protocol/ttrpc/index.js";
import { listenSerial } from "../src/transport/serial-listener.js";

const ttrpc = new TtrpcServer();
ttrpc.register("grpc.Health", { Check: () => Uint8Array.of(0x08, 0x01) });
await listenSerial("agent.channel.0", (stream) => ttrpc.serveConnection(stream), { log: () => {} });
