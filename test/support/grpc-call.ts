import { credentials, Metadata, makeGenericClientConstructor, type ServiceError } from "@grpc/grpc-js";

/** One unary gRPC call of raw bytes to `path` over a fresh connection to the agent's unix socket. */
export function grpcCall(
  socketPath: string,
  path: string,
  payload: Uint8Array,
  timeoutMs = 5000,
): Promise<Buffer> {
  const Client = makeGenericClientConstructor({}, "raw");
  const client = new Client(`unix://${socketPath}`, credentials.createInsecure());
  return new Promise<Buffer>((resolve, reject) => {
    client.makeUnaryRequest(
      path,
      (b: Uint8Array) => Buffer.from(b),
      (b: Buffer) => b,
      payload,
      new Metadata(),
      { deadline: Date.now() + timeoutMs },
      (error: ServiceError | null, reply?: Buffer) => {
        client.close();
        if (error) reject(error);
        else resolve(reply ?? Buffer.alloc(0));
      },
    );
  });
}
