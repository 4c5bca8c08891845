#!/usr/bin/env bash
# Try berth: install what is missing, build, start the agent on a private unix socket, run busybox
# containers through it with `berthctl run`, showing their output and exit status, tear everything down.
# Run as root on a Debian machine with Node.js 20. The agent runs in its own mount namespace with every
# directory it writes under a temporary directory, so this machine's mounts, hostname and resolv.conf are
# left alone.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

if [ "$(id -u)" -ne 0 ]; then
  echo "quickstart: run as root (berth mounts filesystems and starts containers with runc)" >&2
  exit 1
fi

step "install and build"
missing=()
for p in runc busybox-static util-linux iproute2 g++ make python3; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} > 0)); then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
[ -d node_modules ] || npm ci --no-audit --no-fund
npm run --silent build

dir=$(mktemp -d /tmp/berth-quickstart.XXXXXX)
addr="unix://$dir/agent.sock"
export BERTH_ADDR=$addr # where berthctl finds the agent (else --addr)
ctl() { node dist/bin/berthctl.js "$@"; }

step "a busybox root filesystem in $dir/rootfs"
mkdir -p "$dir"/rootfs/{bin,proc,sys,dev,etc,tmp}
cp /bin/busybox "$dir/rootfs/bin/"
for applet in $(/bin/busybox --list); do [ "$applet" = busybox ] || ln -s busybox "$dir/rootfs/bin/$applet"; done

step "start berth-agent on $addr (in its own mount and network namespaces)"
echo "nameserver 127.0.0.53" >"$dir/resolv.conf"
unshare --mount --net --propagation private dist/bin/berth-agent --server-addr "$addr" --log-level info \
  --run-dir "$dir/run" --sandbox-ns-dir "$dir/sandbox-ns" --resolv-conf "$dir/resolv.conf" \
  --runc-root "$dir/runc" >"$dir/agent.log" 2>&1 &
agent=$!
trap 'kill $agent 2>/dev/null || true; wait $agent 2>/dev/null || true; rm -rf "$dir"' EXIT
for _ in $(seq 100); do
  ctl --timeout 1 health >/dev/null 2>&1 && break
  sleep 0.05
done
ctl health
ctl version

step "berthctl run: sandbox, container, its stdout and stderr live, its exit status"
status=0
ctl run --rootfs "$dir/rootfs" --hostname berth-demo -- \
  sh -c 'echo "hello from $(hostname), pid $$ in its own PID namespace"; echo "this line went to stderr" >&2; exit 3' ||
  status=$?
echo "the container exited with status $status (and was removed)"

step "berthctl run -i: stdin streamed in"
printf 'banana\ncherry\napple\n' | ctl run -i --rootfs "$dir/rootfs" -- sort

step "the pod's network, as a Kata host sets it: UpdateInterface, UpdateRoutes, ListRoutes"
# A veth pair in the agent's namespace stands for the NIC the host would hot-plug (found by its MAC).
nsenter --net=/proc/$agent/ns/net ip link add nic0 address 02:42:ac:11:00:02 type veth peer name nic0-peer
nsenter --net=/proc/$agent/ns/net ip link set nic0-peer up
ctl call UpdateInterface '{"interface":{"name":"eth0","hwAddr":"02:42:ac:11:00:02","mtu":"1450",
  "IPAddresses":[{"address":"172.17.0.2","mask":"16"},{"family":"v6","address":"fd00:17::2","mask":"64"}]}}'
ctl call UpdateRoutes '{"routes":{"Routes":[{"gateway":"172.17.0.1","device":"eth0"}]}}' >/dev/null
ctl call ListRoutes
nsenter --net=/proc/$agent/ns/net ip route

step "DestroySandbox, through berthctl call"
ctl call DestroySandbox '{}'

step "stop the agent (SIGTERM)"
kill -TERM $agent
wait $agent && echo "berth-agent exited cleanly"
