#!/usr/bin/env node
import { parseArgs } from "node:util";
import { callJson, connectAgent, findRpc, rpcNames } from "../src/ctl/agent-client.js";
import { codeName } from "../src/errors.js";
import { parseListenAddress } from "../src/transport/address.js";

const USAGE = `Usage: berthctl [--addr ADDR] [--timeout SECONDS] COMMAND

Talks to berth (or any Kata agent) over ttrpc.

Commands:
  health               Health.Check and Health.Version
  call RPC [JSON]      call any RPC with a JSON request and print the JSON reply,
                       e.g. berthctl call Version '{}'
  list                 list every RPC

Options:
  --addr ADDR          the agent's address, unix:///path (default $KATA_AGENT_SERVER_ADDR)
  --timeout SECONDS    give up after this long (default 30)
`;

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    options: { addr: { type: "string" }, timeout: { type: "string" }, help: { type: "boolean", short: "h" } },
    allowPositionals: true,
  });
  const [command, ...rest] = positionals;
  if (values.help || !command) {
    process.stdout.write(USAGE);
    return values.help ? 0 : 2;
  }
  if (command === "list") {
    process.stdout.write(`${rpcNames().join("\n")}\n`);
    return 0;
  }
  const addr = values.addr ?? process.env.KATA_AGENT_SERVER_ADDR;
  if (!addr) throw new Error("no agent address: give --addr unix:///path or set KATA_AGENT_SERVER_ADDR");
  const timeoutMs = Number(values.timeout ?? 30) * 1000;
  const client = await connectAgent(parseListenAddress(addr));
  try {
    if (command === "health") {
      const check = await callJson(client, findRpc("Check"), "{}", timeoutMs);
      const version = await callJson(client, findRpc("Version"), "{}", timeoutMs);
      process.stdout.write(`${JSON.stringify({ ...(check as object), ...(version as object) })}\n`);
      return 0;
    }
    if (command === "call") {
      const [rpc, json = "{}"] = rest;
      if (!rpc) throw new Error("call needs an RPC name; berthctl list shows them");
      process.stdout.write(
        `${JSON.stringify(await callJson(client, findRpc(rpc), json, timeoutMs), null, 2)}\n`,
      );
      return 0;
    }
    throw new Error(`unknown command ${JSON.stringify(command)}\n${USAGE}`);
  } finally {
    client.close();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const e = error as { message?: string; code?: unknown };
    const code = typeof e.code === "number" ? `${codeName(e.code)}: ` : "";
    process.stderr.write(`berthctl: ${code}${e.message ?? String(error)}\n`);
    process.exitCode = 1;
  },
);
