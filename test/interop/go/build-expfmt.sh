#!/usr/bin/env bash
# Build expfmt-parse (Prometheus' Go text parser, as Kata's shim and kata-monitor use it) offline, from
# Debian packages only.
#
#   test/interop/go/build-expfmt.sh OUT_DIR      → OUT_DIR/expfmt-parse
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[ $# -eq 1 ] || { echo "usage: $0 OUT_DIR" >&2; exit 2; }
die() { echo "build-expfmt.sh: $*" >&2; exit 1; }
command -v go >/dev/null 2>&1 || die "'go' not found; install the Debian package: apt-get install -y --no-install-recommends golang-go"
[ -d /usr/share/gocode/src/github.com/prometheus/common/expfmt ] ||
	die "Go package github.com/prometheus/common/expfmt not found; install the Debian package: apt-get install -y --no-install-recommends golang-github-prometheus-common-dev"

mkdir -p "$1"
out=$(cd "$1" && pwd)
src=$out/.gopath-expfmt/src/expfmt-parse
rm -rf "$src" && mkdir -p "$src"
cp "$here/expfmt-parse/main.go" "$src/"
export GOPATH="$out/.gopath-expfmt:/usr/share/gocode" GO111MODULE=off GOPROXY=off GOFLAGS=-trimpath \
	GOCACHE="$out/.gocache" CGO_ENABLED=0
cd "$src"
go build -o "$out/expfmt-parse" .
echo "built $out/expfmt-parse"
