// Command berth-peer is an independent client for berth's grpc.Health service, built only from Debian's Go
// packages (containerd/ttrpc 1.1.1, grpc-go 1.33, gogo/protobuf 1.3.2). Every subcommand prints JSON lines on
// stdout and exits non-zero on an unexpected failure.
//
//	berth-peer health --proto ttrpc|grpc --addr unix:///path
//	berth-peer call   --addr unix:///path --service S --method M [--payload-hex HEX] [--timeout 5s] [--metadata k=v]...
//	berth-peer bench  --proto ttrpc|grpc --addr unix:///path --concurrency N --duration D [--warmup W]
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/containerd/ttrpc"
	"google.golang.org/grpc"

	pb "berthinterop/health"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "health":
		err = cmdHealth(os.Args[2:])
	case "call":
		err = cmdCall(os.Args[2:])
	case "bench":
		err = cmdBench(os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fail(err)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: berth-peer health|call|bench [flags] (-h for flags)")
	os.Exit(2)
}

// fail reports an unexpected failure as a JSON line and exits 1.
func fail(err error) {
	emit(map[string]string{"error": err.Error()})
	os.Exit(1)
}

func emit(v interface{}) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	fmt.Println(string(b))
}

// socketPath accepts unix:///path, unix:/path, unix:path or a bare path.
func socketPath(addr string) (string, error) {
	p := strings.TrimPrefix(addr, "unix:")
	if strings.HasPrefix(p, "//") {
		p = strings.TrimPrefix(p, "//")
	}
	if p == "" {
		return "", fmt.Errorf("bad --addr %q: want unix:///path", addr)
	}
	return p, nil
}

func dialTTRPC(addr string) (*ttrpc.Client, error) {
	path, err := socketPath(addr)
	if err != nil {
		return nil, err
	}
	conn, err := net.Dial("unix", path)
	if err != nil {
		return nil, err
	}
	return ttrpc.NewClient(conn), nil
}

// dialGRPC opens one HTTP/2 connection. grpc-go 1.33 has no unix: resolver, so the dialer is explicit
// and :authority is "localhost" (what newer grpc-go sends for unix targets).
func dialGRPC(addr string) (*grpc.ClientConn, error) {
	path, err := socketPath(addr)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return grpc.DialContext(ctx, "passthrough:///"+path,
		grpc.WithInsecure(), grpc.WithBlock(), grpc.FailOnNonTempDialError(true), grpc.WithAuthority("localhost"),
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", path)
		}))
}

// checker is the Health.Check call, whatever the transport.
type checker func(ctx context.Context, req *pb.CheckRequest) (*pb.HealthCheckResponse, error)

// healthClient returns Check and Version callers over one connection, and a closer.
func healthClient(proto, addr string) (checker, func(ctx context.Context, req *pb.CheckRequest) (*pb.VersionCheckResponse, error), func(), error) {
	switch proto {
	case "ttrpc":
		c, err := dialTTRPC(addr)
		if err != nil {
			return nil, nil, nil, err
		}
		h := pb.NewHealthTTRPCClient(c)
		return h.Check, h.Version, func() { c.Close() }, nil
	case "grpc":
		cc, err := dialGRPC(addr)
		if err != nil {
			return nil, nil, nil, err
		}
		h := pb.NewHealthClient(cc)
		check := func(ctx context.Context, r *pb.CheckRequest) (*pb.HealthCheckResponse, error) { return h.Check(ctx, r) }
		version := func(ctx context.Context, r *pb.CheckRequest) (*pb.VersionCheckResponse, error) {
			return h.Version(ctx, r)
		}
		return check, version, func() { cc.Close() }, nil
	}
	return nil, nil, nil, fmt.Errorf("bad --proto %q: want ttrpc or grpc", proto)
}
