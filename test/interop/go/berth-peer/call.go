package main

import (
	"context"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/containerd/ttrpc"
	"google.golang.org/grpc/status"
)

// rawMsg passes bytes through ttrpc's codec untouched: gogo's proto.Marshal/Unmarshal use the
// Marshaler/Unmarshaler interfaces when a message has them.
type rawMsg struct{ b []byte }

func (m *rawMsg) Reset()                   { m.b = nil }
func (m *rawMsg) String() string           { return hex.EncodeToString(m.b) }
func (m *rawMsg) ProtoMessage()            {}
func (m *rawMsg) Marshal() ([]byte, error) { return m.b, nil }
func (m *rawMsg) Unmarshal(b []byte) error { m.b = append([]byte(nil), b...); return nil }

type kvFlags []string

func (k *kvFlags) String() string { return strings.Join(*k, ",") }
func (k *kvFlags) Set(v string) error {
	if !strings.Contains(v, "=") {
		return fmt.Errorf("want k=v, got %q", v)
	}
	*k = append(*k, v)
	return nil
}

// cmdCall makes one raw ttrpc call through containerd/ttrpc's Client.Call and prints the gRPC status.
func cmdCall(args []string) error {
	fs := flag.NewFlagSet("call", flag.ExitOnError)
	addr := fs.String("addr", "", "unix:///path")
	service := fs.String("service", "", "ttrpc service, e.g. grpc.Health")
	method := fs.String("method", "", "method, e.g. Check")
	payloadHex := fs.String("payload-hex", "", "request payload (protobuf bytes) in hex")
	timeout := fs.Duration("timeout", 5*time.Second, "call timeout (sent as timeout_nano)")
	var md kvFlags
	fs.Var(&md, "metadata", "k=v request metadata (repeatable)")
	fs.Parse(args)

	payload, err := hex.DecodeString(*payloadHex)
	if err != nil {
		return fmt.Errorf("bad --payload-hex: %w", err)
	}
	c, err := dialTTRPC(*addr)
	if err != nil {
		return err
	}
	defer c.Close()

	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	if len(md) > 0 {
		m := ttrpc.MD{}
		for _, kv := range md {
			i := strings.IndexByte(kv, '=')
			m.Append(kv[:i], kv[i+1:])
		}
		ctx = ttrpc.WithMetadata(ctx, m)
	}
	resp := &rawMsg{}
	err = c.Call(ctx, *service, *method, &rawMsg{payload}, resp)
	if err == nil {
		emit(map[string]interface{}{"code": 0, "message": "", "payload_hex": hex.EncodeToString(resp.b)})
		return nil
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("no response within %v", *timeout)
	}
	st, ok := status.FromError(err)
	if !ok {
		return err // transport failure (e.g. ttrpc: closed), not a status from the server
	}
	emit(map[string]interface{}{"code": int(st.Code()), "message": st.Message()})
	return nil
}
