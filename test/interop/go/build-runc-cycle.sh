#!/usr/bin/env bash
# Build runc-cycle (bare runc driven by a small Go process: the lifecycle benchmarks' baseline) offline,
# with the Go toolchain from Debian and the standard library only.
#
#   test/interop/go/build-runc-cycle.sh OUT_DIR      → OUT_DIR/runc-cycle
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[ $# -eq 1 ] || { echo "usage: $0 OUT_DIR" >&2; exit 2; }
command -v go >/dev/null 2>&1 || {
	echo "build-runc-cycle.sh: 'go' not found; install the Debian package: apt-get install -y --no-install-recommends golang-go" >&2
	exit 1
}

mkdir -p "$1"
out=$(cd "$1" && pwd)
src=$out/.gopath-runc-cycle/src/runc-cycle
rm -rf "$src" && mkdir -p "$src"
cp "$here/runc-cycle/main.go" "$src/"
export GOPATH="$out/.gopath-runc-cycle" GO111MODULE=off GOPROXY=off GOFLAGS=-trimpath GOCACHE="$out/.gocache" CGO_ENABLED=0
cd "$src"
go build -o "$out/runc-cycle" .
echo "built $out/runc-cycle"
