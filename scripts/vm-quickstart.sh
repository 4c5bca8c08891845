#!/usr/bin/env bash
# Try berth inside a real VM: build the guest image (Debian's kernel, node, runc, busybox, berth as /init),
# boot it under QEMU (TCG) with berth-vm, run a busybox container in it through the serial transport with
# berthctl, then DestroySandbox: the guest powers itself off. Run as root on a Debian machine with Node.js 20.
# Everything runs in a mount namespace of its own with a fresh /run, where the share sits at Kata's path
# (/run/kata-containers/shared/containers), so this machine's /run and mounts are left alone.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

if [ "$(id -u)" -ne 0 ]; then
  echo "vm-quickstart: run as root (QEMU, mounts, containers)" >&2
  exit 1
fi
if [ "${BERTH_VM_NAMESPACE:-}" != yes ]; then
  step "install and build"
  missing=()
  for p in qemu-system-x86 runc busybox-static kmod util-linux g++ make python3; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((${#missing[@]} > 0)); then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
  [ -d node_modules ] || npm ci --no-audit --no-fund
  npm run --silent build
  step "the guest image (cached; rebuilt when an input changes)"
  node dist/bin/berth-vm.js build
  exec env BERTH_VM_NAMESPACE=yes unshare --mount --propagation private bash "$0"
fi

mount -t tmpfs -o size=512m,mode=755 berth-vm-quickstart /run
share=/run/kata-containers/shared/containers
dir=$(mktemp -d /tmp/berth-vm-quickstart.XXXXXX)
trap 'node dist/bin/berth-vm.js stop --qmp-socket "$dir/qmp.sock" --pid-file "$dir/qemu.pid" 2>/dev/null || true; rm -rf "$dir"' EXIT

step "a busybox root filesystem in the share: $share/demo/rootfs"
mkdir -p "$share"/demo/rootfs/{bin,proc,sys,dev,etc,tmp}
cp /bin/busybox "$share/demo/rootfs/bin/"
for applet in $(/bin/busybox --list); do [ "$applet" = busybox ] || ln -s busybox "$share/demo/rootfs/bin/$applet"; done

step "berth-vm start: QEMU boots, berth is the guest's PID 1, its serial port served on $dir/agent.sock"
storage=$(node dist/bin/berth-vm.js start --agent-socket "$dir/agent.sock" --qmp-socket "$dir/qmp.sock" \
  --share "$share" --pid-file "$dir/qemu.pid" --log "$dir/vm.log" | tail -1)
echo "the share's storage for CreateSandbox: $storage"
export BERTH_ADDR="unix://$dir/agent.sock"
node dist/bin/berthctl.js health

step "berthctl run: a container inside the VM, from the rootfs the host built in the share"
status=0
node dist/bin/berthctl.js run --sandbox-storage "$storage" --hostname berth-vm-demo -e "HOST_KERNEL=$(uname -r)" \
  --rootfs "$share/demo/rootfs" -- \
  sh -c 'echo "hello from $(hostname), kernel $(uname -r) (the host runs $HOST_KERNEL)"; exit 3' ||
  status=$?
echo "the container exited with status $status"

step "DestroySandbox: the guest powers off"
node dist/bin/berthctl.js call DestroySandbox '{}' >/dev/null
qemu=$(cat "$dir/qemu.pid")
for _ in $(seq 300); do kill -0 "$qemu" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$qemu" 2>/dev/null; then
  echo "QEMU is still running" >&2
  exit 1
fi
grep -a "reboot: Power down" "$dir/vm.log"
echo "QEMU has exited; the VM is gone"
