package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	pb "berthinterop/health"
)

func cmdHealth(args []string) error {
	fs := flag.NewFlagSet("health", flag.ExitOnError)
	proto := fs.String("proto", "ttrpc", "ttrpc or grpc")
	addr := fs.String("addr", "", "unix:///path")
	timeout := fs.Duration("timeout", 5*time.Second, "per-call timeout")
	fs.Parse(args)

	check, version, closer, err := healthClient(*proto, *addr)
	if err != nil {
		return err
	}
	defer closer()
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	c, err := check(ctx, &pb.CheckRequest{})
	if err != nil {
		return fmt.Errorf("Check: %w", err)
	}
	v, err := version(ctx, &pb.CheckRequest{Service: "interop"})
	if err != nil {
		return fmt.Errorf("Version: %w", err)
	}
	emit(struct {
		Check        string `json:"check"`
		GrpcVersion  string `json:"grpc_version"`
		AgentVersion string `json:"agent_version"`
	}{c.Status.String(), v.GrpcVersion, v.AgentVersion})
	return nil
}
