import {
  create,
  type DescMethodUnary,
  fromBinary,
  type MessageInitShape,
  toBinary,
} from "@bufbuild/protobuf";
import { AgentService } from "../../src/protocol/gen/agent_pb.js";
import { connectTtrpc, type TtrpcClient } from "../../src/protocol/ttrpc/client.js";

type Methods = typeof AgentService.method;

/** grpc.AgentService over our ttrpc client, typed by the generated schema. */
export class AgentRpc {
  readonly client: TtrpcClient;

  private constructor(client: TtrpcClient) {
    this.client = client;
  }

  static async connect(socketPath: string): Promise<AgentRpc> {
    return new AgentRpc(await connectTtrpc(socketPath));
  }

  async call<K extends keyof Methods>(
    name: K,
    request: MessageInitShape<Methods[K]["input"]>,
    timeoutMs = 60_000,
  ) {
    const method = AgentService.method[name] as unknown as DescMethodUnary;
    const input = method.input as Methods[K]["input"];
    const payload = toBinary(input, create(input, request));
    const reply = await this.client.call("grpc.AgentService", method.name, payload, { timeoutMs });
    return fromBinary(method.output as Methods[K]["output"], reply);
  }

  close(): void {
    this.client.close();
  }
}
