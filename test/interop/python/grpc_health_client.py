#!/usr/bin/python3
"""Independent gRPC client for berth's grpc.Health, using Debian's python3-grpcio (run with /usr/bin/python3).

    grpc_health_client.py --addr unix:///path [--proto /work/main/proto/health.proto] [--timeout 5]

The _pb2 modules are generated at run time into a temp dir from the given health.proto with
`protoc --python_out --grpc_out --plugin=protoc-gen-grpc=/usr/bin/grpc_python_plugin`
(packages protobuf-compiler, protobuf-compiler-grpc). Calls Check, then Version(service="interop"), then the
unknown method /grpc.Health/Nope (raw bytes), and prints one JSON line:
    {"check": "SERVING", "grpc_version": "...", "agent_version": "...", "unknown_method": "UNIMPLEMENTED"}
Exits 1 (with {"error": ...}) on an unexpected failure.
"""
import argparse
import importlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

import grpc

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_PROTO = os.path.normpath(os.path.join(HERE, "..", "..", "..", "proto", "health.proto"))
PLUGIN = "/usr/bin/grpc_python_plugin"


def generate(proto, out):
    for tool, pkg in (("protoc", "protobuf-compiler"), (PLUGIN, "protobuf-compiler-grpc")):
        if not shutil.which(tool):
            sys.exit(f"{tool} not found: apt-get install -y --no-install-recommends {pkg}")
    proto = os.path.abspath(proto)
    subprocess.run(["protoc", "-I", os.path.dirname(proto), "--python_out", out, "--grpc_out", out,
                    "--plugin=protoc-gen-grpc=" + PLUGIN, proto], check=True)
    name = os.path.splitext(os.path.basename(proto))[0]
    sys.path.insert(0, out)
    return importlib.import_module(name + "_pb2"), importlib.import_module(name + "_pb2_grpc")


def target(addr):
    """unix:///path, unix:/path or a bare path -> grpcio's unix:/path."""
    path = addr[len("unix:"):] if addr.startswith("unix:") else addr
    if path.startswith("//"):
        path = path[2:]
    return "unix:" + path


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--addr", required=True)
    ap.add_argument("--proto", default=DEFAULT_PROTO)
    ap.add_argument("--timeout", type=float, default=5.0)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="berth-pyhealth-") as tmp:
        pb2, pb2_grpc = generate(args.proto, tmp)
        try:
            with grpc.insecure_channel(target(args.addr)) as ch:
                grpc.channel_ready_future(ch).result(timeout=args.timeout)
                stub = pb2_grpc.HealthStub(ch)
                check = stub.Check(pb2.CheckRequest(), timeout=args.timeout)
                version = stub.Version(pb2.CheckRequest(service="interop"), timeout=args.timeout)
                # No serializers: request and response are raw bytes.
                nope = ch.unary_unary("/grpc.Health/Nope")
                try:
                    nope(b"", timeout=args.timeout)
                    unknown = "OK"
                except grpc.RpcError as e:
                    unknown = e.code().name
        except (grpc.RpcError, grpc.FutureTimeoutError) as e:
            detail = f"{e.code().name}: {e.details()}" if isinstance(e, grpc.RpcError) else "channel not ready"
            print(json.dumps({"error": detail}))
            return 1
    print(json.dumps({
        "check": pb2.HealthCheckResponse.ServingStatus.Name(check.status),
        "grpc_version": version.grpc_version,
        "agent_version": version.agent_version,
        "unknown_method": unknown,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
