#!/usr/bin/env bash
# Try berth: build it, start the agent on a private unix socket, talk to it with berthctl, stop it.
# Run from anywhere, on a Debian machine with Node.js 20 (root is not needed yet).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "install and build"
[ -d node_modules ] || npm ci --no-audit --no-fund
npm run --silent build

dir=$(mktemp -d /tmp/berth-quickstart.XXXXXX)
addr="unix://$dir/agent.sock"
step "start berth-agent on $addr"
dist/bin/berth-agent.js --server-addr "$addr" --log-level info >"$dir/agent.log" 2>&1 &
agent=$!
trap 'kill $agent 2>/dev/null || true; wait $agent 2>/dev/null || true; rm -rf "$dir"' EXIT
for _ in $(seq 100); do
  node dist/bin/berthctl.js --addr "$addr" --timeout 1 health >/dev/null 2>&1 && break
  sleep 0.05
done
head -n 2 "$dir/agent.log"

step "berthctl health"
node dist/bin/berthctl.js --addr "$addr" health

step "berthctl call Version '{}'"
node dist/bin/berthctl.js --addr "$addr" call Version '{}'

step "an RPC berth does not implement yet answers UNIMPLEMENTED"
node dist/bin/berthctl.js --addr "$addr" call CreateSandbox '{"hostname":"demo","sandboxId":"demo"}' || true

step "stop the agent (SIGTERM)"
kill -TERM $agent
wait $agent && echo "berth-agent exited cleanly"
