#!/usr/bin/env bash
# Build the Go interop peers (berth-peer, berth-baseline) offline, from Debian packages only.
#
#   test/interop/go/build.sh OUT_DIR [HEALTH_PROTO]
#
# HEALTH_PROTO defaults to <repo>/proto/health.proto (berth's own schema). Go code for it is generated into
# OUT_DIR/.gopath at every run (gogo messages + containerd/ttrpc stubs + grpc-go stubs); nothing generated
# is written to the source tree. Binaries: OUT_DIR/berth-peer, OUT_DIR/berth-baseline.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../../.." && pwd)
[ $# -ge 1 ] && [ $# -le 2 ] || { echo "usage: $0 OUT_DIR [HEALTH_PROTO]" >&2; exit 2; }
out=$1
proto=${2:-$repo/proto/health.proto}

die() { echo "build.sh: $*" >&2; exit 1; }
need_cmd() { command -v "$1" >/dev/null 2>&1 || die "'$1' not found; install the Debian package: apt-get install -y --no-install-recommends $2"; }
need_src() { [ -d "/usr/share/gocode/src/$1" ] || die "Go package $1 not found; install the Debian package: apt-get install -y --no-install-recommends $2"; }

need_cmd go golang-go
need_cmd protoc protobuf-compiler
need_cmd protoc-gen-gogottrpc gogottrpc
need_cmd perl perl-base
need_src github.com/containerd/ttrpc golang-github-containerd-ttrpc-dev
need_src github.com/gogo/protobuf/proto golang-github-gogo-protobuf-dev
need_src google.golang.org/grpc golang-google-grpc-dev
[ -f "$proto" ] || die "health proto not found: $proto (pass its path as the second argument)"

mkdir -p "$out"
out=$(cd "$out" && pwd)
proto=$(cd "$(dirname "$proto")" && pwd)/$(basename "$proto")
src=$out/.gopath/src/berthinterop

# 1. Generate Go code from berth's schema. plugins=ttrpc+grpc puts both stub sets in one file, but both name
#    their client constructor New<Svc>Client and their client struct <svc>Client. The ttrpc ones come last in
#    the file: from the first ttrpc client struct on, rename them New<Svc>TTRPCClient / <svc>TTRPCClient.
gen=$out/.gen
rm -rf "$gen" && mkdir -p "$gen"
protoc -I "$(dirname "$proto")" \
	--gogottrpc_out=plugins=ttrpc+grpc,paths=source_relative:"$gen" "$proto"
gofile=$gen/$(basename "$proto" .proto).pb.go
[ -f "$gofile" ] || die "protoc did not produce $gofile"
perl -0pi -e '
	my $at = index($_, "\tclient *github_com_containerd_ttrpc.Client\n}");
	if ($at >= 0) {
		$at = rindex($_, "\ntype ", $at);
		my ($head, $tail) = (substr($_, 0, $at), substr($_, $at));
		$tail =~ s/\b([a-z]\w*)Client\b/$1TTRPCClient/g;
		$tail =~ s/\bNew(\w+)Client\b/New$1TTRPCClient/g;
		$_ = $head . $tail;
	}' "$gofile"
grep -q 'TTRPCClient' "$gofile" || die "no ttrpc client generated in $gofile (does the proto define a service?)"
grep -q 'grpc.ClientConn' "$gofile" || die "no grpc client generated in $gofile"

# 2. Lay out a GOPATH: berthinterop/{health,berth-peer,berth-baseline}; deps come from /usr/share/gocode.
rm -rf "$src" && mkdir -p "$src/health"
cp "$gofile" "$src/health/"
cp -r "$here/berth-peer" "$here/berth-baseline" "$src/"

# 3. Build offline, GOPATH mode.
export GOPATH="$out/.gopath:/usr/share/gocode" GO111MODULE=off GOPROXY=off GOFLAGS=-trimpath \
	GOCACHE="$out/.gocache" CGO_ENABLED=0
cd "$src"
go build -o "$out/berth-peer" ./berth-peer
go build -o "$out/berth-baseline" ./berth-baseline
echo "built $out/berth-peer $out/berth-baseline (schema: $proto)"
