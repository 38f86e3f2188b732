#!/usr/bin/python3
"""Memory per connection of a running burrowd: half-open (TCP only, never authenticating) and
open (handshake done, one channel), measured as the broker's RSS growth.

Usage: bench/conn_memory.py --burrowd build/release/bin/burrowd [--count 2000]
       bench/conn_memory.py --port 5673 --pid PID [--count 2000]   (a running broker,
       e.g. RabbitMQ: PID of its beam.smp; restart it between the two kinds for a fair figure)
Prints one JSON line: RSS before, after N half-open, after N open connections, and the bytes
per connection of each kind. Uses raw sockets (no client library), 127.0.0.1 only.
"""
import argparse
import json
import os
import resource
import socket
import struct
import subprocess
import sys
import tempfile
import time


def shortstr(s):
    return struct.pack(">B", len(s)) + s


def method_frame(channel, class_id, method_id, args):
    payload = struct.pack(">HH", class_id, method_id) + args
    return struct.pack(">BHI", 1, channel, len(payload)) + payload + b"\xce"


def read_frame(sock):
    header = b""
    while len(header) < 7:
        chunk = sock.recv(7 - len(header))
        if not chunk:
            raise ConnectionError("closed")
        header += chunk
    _, _, size = struct.unpack(">BHI", header)
    rest = b""
    while len(rest) < size + 1:
        chunk = sock.recv(size + 1 - len(rest))
        if not chunk:
            raise ConnectionError("closed")
        rest += chunk
    return rest[:size]


def open_connection(port):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"AMQP\x00\x00\x09\x01")
    read_frame(s)  # connection.start
    s.sendall(method_frame(0, 10, 11, struct.pack(">I", 0) + shortstr(b"PLAIN") +
                           struct.pack(">I", 12) + b"\x00guest\x00guest" + shortstr(b"en_US")))
    read_frame(s)  # connection.tune
    s.sendall(method_frame(0, 10, 31, struct.pack(">HIH", 2047, 131072, 0)))
    s.sendall(method_frame(0, 10, 40, shortstr(b"/") + shortstr(b"") + b"\x00"))
    read_frame(s)  # connection.open-ok
    s.sendall(method_frame(1, 20, 10, shortstr(b"")))
    read_frame(s)  # channel.open-ok
    return s


def rss_bytes(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def settle(pid):
    time.sleep(1.0)
    return rss_bytes(pid)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--burrowd")
    parser.add_argument("--port", type=int, help="measure a running broker on this port")
    parser.add_argument("--pid", type=int, help="the running broker's process")
    parser.add_argument("--kind", choices=["half_open", "open"], action="append")
    parser.add_argument("--count", type=int, default=2000)
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    result = {"count": args.count}
    if args.port:
        for kind in args.kind or ["half_open", "open"]:
            base = settle(args.pid)
            if kind == "half_open":
                conns = [socket.create_connection(("127.0.0.1", args.port))
                         for _ in range(args.count)]
            else:
                conns = [open_connection(args.port) for _ in range(args.count)]
            after = settle(args.pid)
            for c in conns:
                c.close()
            result["%s_kib_each" % kind] = round((after - base) / args.count / 1024, 1)
        print(json.dumps(result))
        return 0
    for kind in ("half_open", "open"):
        # A fresh broker per kind: memory a closed connection gave back stays in the
        # allocator, so measuring one kind after the other would hide the second.
        data = tempfile.mkdtemp(prefix="burrow-connmem-")
        broker = subprocess.Popen([args.burrowd, "--in-memory", "--bind", "127.0.0.1", "--port",
                                   str(port), "--http-port", "0", "--data-dir", data,
                                   "--handshake-timeout", "600000"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(200):
                try:
                    socket.create_connection(("127.0.0.1", port)).close()
                    break
                except OSError:
                    time.sleep(0.05)
            base = settle(broker.pid)
            if kind == "half_open":
                conns = [socket.create_connection(("127.0.0.1", port)) for _ in range(args.count)]
            else:
                conns = [open_connection(port) for _ in range(args.count)]
            after = settle(broker.pid)
            for c in conns:
                c.close()
            result["rss_base_mb"] = round(base / 2**20, 1)
            result["rss_%s_mb" % kind] = round(after / 2**20, 1)
            result["%s_kib_each" % kind] = round((after - base) / args.count / 1024, 1)
        finally:
            broker.terminate()
            broker.wait(10)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
