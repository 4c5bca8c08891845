import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { connect, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { promisify } from "node:util";
import { connectStream, listenUnixFd, serverFromListeningFd } from "./listening-socket.js";

const execFileAsync = promisify(execFile);

const unexpected = (error: Error) => assert.fail(`the server reported ${error.message}`);

function echoServer(fd: number, onError: (error: Error) => void = unexpected): Promise<Server> {
  return serverFromListeningFd(
    fd,
    (socket: Socket) => socket.on("data", (d) => socket.end(`echo:${d}`)),
    onError,
  );
}

function roundTrip(path: string, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = connect(path, () => c.write(text));
    let got = "";
    c.on("data", (d) => {
      got += d;
    });
    c.on("end", () => resolve(got));
    c.on("error", reject);
  });
}

describe("serverFromListeningFd()", () => {
  const dir = mkdtempSync(join(tmpdir(), "berth-fd-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("serves a natively bound unix socket end to end", async () => {
    const path = join(dir, "a.sock");
    const server = await echoServer(listenUnixFd(path));
    try {
      assert.deepEqual(await Promise.all([roundTrip(path, "one"), roundTrip(path, "two")]), [
        "echo:one",
        "echo:two",
      ]);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("serves an abstract unix socket under its exact name, as Go, Rust and Python clients address it", async () => {
    const name = `berth-test-${process.pid}-${Date.now()}`;
    const server = await echoServer(listenUnixFd(`\0${name}`));
    try {
      const client = [
        "import socket, sys",
        "s = socket.socket(socket.AF_UNIX)",
        "s.connect(b'\\0' + sys.argv[1].encode())",
        "s.sendall(b'abstract'); s.shutdown(socket.SHUT_WR)",
        "print(s.recv(100).decode(), end='')",
      ].join("\n");
      const { stdout } = await execFileAsync("/usr/bin/python3", ["-c", client, name]);
      assert.equal(stdout, "echo:abstract");
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("review #12: hands an accept error to onError and keeps listening", async () => {
    const path = join(dir, "emfile.sock");
    const reported: NodeJS.ErrnoException[] = [];
    const server = await echoServer(listenUnixFd(path), (error) => reported.push(error));
    try {
      const emfile = Object.assign(new Error("accept EMFILE"), { code: "EMFILE", syscall: "accept" });
      server.emit("error", emfile);
      assert.deepEqual(reported, [emfile]);
      assert.equal(await roundTrip(path, "still here"), "echo:still here");
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("refuses an address in use with EADDRINUSE naming bind", () => {
    const path = join(dir, "busy.sock");
    const fd = listenUnixFd(path);
    try {
      assert.throws(() => listenUnixFd(path), { code: "EADDRINUSE", syscall: "bind" });
    } finally {
      void serverFromListeningFd(fd, () => {}, unexpected).then((s) => s.close());
    }
  });

  it("refuses a path too long for sockaddr_un", () => {
    assert.throws(() => listenUnixFd(`/${"x".repeat(200)}`), { code: "ENAMETOOLONG" });
  });

  it("refuses a descriptor that is not a listening socket", async () => {
    await assert.rejects(() => serverFromListeningFd(99_999, () => {}, unexpected), {
      code: "EBADF",
      message: "cannot wrap socket fd 99999: EBADF",
    });
  });
});

describe("connectStream()", () => {
  it("connects to an abstract unix socket by its exact name and carries data both ways", async () => {
    const name = `\0berth-connect-${process.pid}-${Date.now()}`;
    const server = await echoServer(listenUnixFd(name));
    try {
      const socket = await connectStream({ unix: name });
      const reply = await new Promise<string>((resolve, reject) => {
        let got = "";
        socket.on("data", (d) => {
          got += d;
        });
        socket.on("end", () => resolve(got));
        socket.on("error", reject);
        socket.write("hi");
      });
      assert.equal(reply, "echo:hi");
      socket.destroy();
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("rejects with the errno of a refused connection", async () => {
    await assert.rejects(connectStream({ unix: "\0berth-nobody-listens-here" }), {
      code: "ECONNREFUSED",
      syscall: "connect",
    });
    await assert.rejects(
      connectStream({ vsock: { cid: 1, port: 1 } }),
      (e: NodeJS.ErrnoException) => typeof e.code === "string",
    );
  });
});
