// Command berth-baseline serves grpc.Health with the stock Go libraries (containerd/ttrpc 1.1.1 server or
// grpc-go 1.33 server) on a unix socket: the reference berth is compared and benchmarked against.
//
//	berth-baseline --proto ttrpc|grpc --addr unix:///path
//
// It removes a stale socket, prints "ready" once listening, and exits 0 on SIGTERM/SIGINT.
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/containerd/ttrpc"
	"google.golang.org/grpc"

	pb "berthinterop/health"
)

type health struct{}

func (health) Check(ctx context.Context, r *pb.CheckRequest) (*pb.HealthCheckResponse, error) {
	return &pb.HealthCheckResponse{Status: pb.HealthCheckResponse_SERVING}, nil
}

func (health) Version(ctx context.Context, r *pb.CheckRequest) (*pb.VersionCheckResponse, error) {
	return &pb.VersionCheckResponse{GrpcVersion: "0.0.1", AgentVersion: "go-baseline"}, nil
}

func main() {
	proto := flag.String("proto", "ttrpc", "ttrpc or grpc")
	addr := flag.String("addr", "", "unix:///path")
	flag.Parse()
	path := strings.TrimPrefix(strings.TrimPrefix(*addr, "unix:"), "//")
	if path == "" || (*proto != "ttrpc" && *proto != "grpc") {
		fmt.Fprintln(os.Stderr, "usage: berth-baseline --proto ttrpc|grpc --addr unix:///path")
		os.Exit(2)
	}

	if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
		die(err)
	}
	l, err := net.Listen("unix", path)
	if err != nil {
		die(err)
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)

	var serve func() error
	var stop func()
	if *proto == "ttrpc" {
		s, err := ttrpc.NewServer()
		if err != nil {
			die(err)
		}
		pb.RegisterHealthService(s, health{})
		serve = func() error {
			if err := s.Serve(context.Background(), l); err != ttrpc.ErrServerClosed {
				return err
			}
			return nil
		}
		stop = func() { s.Close() }
	} else {
		s := grpc.NewServer()
		pb.RegisterHealthServer(s, health{})
		serve = func() error { return s.Serve(l) }
		stop = s.Stop
	}

	done := make(chan error, 1)
	go func() { done <- serve() }()
	fmt.Println("ready")
	select {
	case <-sigs:
		stop()
		<-done
	case err := <-done:
		die(fmt.Errorf("serve: %v", err))
	}
	os.Remove(path)
}

func die(err error) {
	fmt.Fprintln(os.Stderr, "berth-baseline:", err)
	os.Exit(1)
}
