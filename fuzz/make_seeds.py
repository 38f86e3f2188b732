#!/usr/bin/python3
"""Writes the seed corpora of fuzz/corpus/<target>/ (run with Debian's /usr/bin/python3).

Two kinds of seeds:
- real client traffic: pika (Debian's python3-pika) runs a session against burrowd through a
  recording proxy (declare, bind with arguments, publish with every property and nested
  headers, consume, ack, nack, confirms, tx, close); the client's byte stream is split into
  frames, method payloads and content-header payloads;
- the shapes of known AMQP parser bugs: oversized and "negative" (high-bit) lengths, truncated
  frames, deep nesting, unknown type octets, property-flag continuation chains, huge body
  sizes.

Usage: fuzz/make_seeds.py --burrowd build/asan/bin/burrowd
"""
import argparse
import decimal
import hashlib
import os
import socket
import struct
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")


def write(target, data, name=None):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    name = name or "seed-" + hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# ---- encoding helpers (AMQP 0-9-1 wire format) ----------------------------------------------

def shortstr(s):
    b = s.encode() if isinstance(s, str) else s
    return struct.pack(">B", len(b)) + b


def longstr(s):
    b = s.encode() if isinstance(s, str) else s
    return struct.pack(">I", len(b)) + b


def table(entries):
    body = b"".join(shortstr(k) + v for k, v in entries)
    return struct.pack(">I", len(body)) + body


def frame(ftype, channel, payload, end=b"\xce"):
    return struct.pack(">BHI", ftype, channel, len(payload)) + payload + end


def frame_max_prefix(frame_max):
    # fuzz_frame reads frame_max / 64 from the first two bytes.
    return struct.pack(">H", min(frame_max // 64, 0xFFFF))


# ---- recorded client traffic ------------------------------------------------------------------

def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def record_pika_session(burrowd):
    import pika

    amqp_port, proxy_port = free_port(), free_port()
    broker = subprocess.Popen([burrowd, "--in-memory", "--bind", "127.0.0.1", "--port",
                               str(amqp_port), "--http-port", "0"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    recorded = bytearray()
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", proxy_port))
    listener.listen(1)

    def pump(src, dst, record):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if record:
                    recorded.extend(data)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            try:
                dst.shutdown(socket.SHUT_WR)
            except OSError:
                pass

    def proxy():
        client, _ = listener.accept()
        upstream = socket.create_connection(("127.0.0.1", amqp_port))
        t = threading.Thread(target=pump, args=(upstream, client, False), daemon=True)
        t.start()
        pump(client, upstream, True)
        t.join(5)

    proxy_thread = threading.Thread(target=proxy, daemon=True)
    proxy_thread.start()
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", amqp_port)).close()
                break
            except OSError:
                time.sleep(0.05)
        conn = pika.BlockingConnection(pika.ConnectionParameters(
            host="127.0.0.1", port=proxy_port, client_properties={"product": "seed"}))
        ch = conn.channel()
        ch.exchange_declare("seed.topic", "topic", durable=True,
                            arguments={"alternate-exchange": "seed.ae"})
        ch.queue_declare("seed.q", arguments={
            "x-message-ttl": 60000, "x-max-length": 100, "x-overflow": "reject-publish",
            "x-dead-letter-exchange": "", "x-max-priority": 5})
        ch.queue_bind("seed.q", "seed.topic", "a.*.#", arguments={"x-match": "all", "k": 1})
        ch.confirm_delivery()
        props = pika.BasicProperties(
            content_type="application/json", content_encoding="gzip", delivery_mode=2,
            priority=3, correlation_id="c-1", reply_to="replies", expiration="5000",
            message_id="m-1", timestamp=1700000000, type="t", user_id="guest", app_id="seed",
            headers={"int": 1, "neg": -5, "dec": decimal.Decimal("1.25"), "bool": True, "str": "s",
                     "bytes": b"\x00\x01", "list": [1, "two", [3, {"deep": {"deeper": None}}]],
                     "table": {"a": {"b": {"c": 1}}}, "big": 2 ** 40})
        ch.basic_publish("seed.topic", "a.b.c", b'{"k": "v"}' * 20, props)
        ch.basic_publish("", "seed.q", b"", pika.BasicProperties())
        ch.basic_publish("", "seed.q", b"x" * 5000)
        ch.basic_qos(prefetch_count=10)
        for method, _, _ in ch.consume("seed.q", inactivity_timeout=0.5):
            if method is None:
                break
            if method.delivery_tag % 2:
                ch.basic_ack(method.delivery_tag)
            else:
                ch.basic_nack(method.delivery_tag, requeue=False)
        ch.cancel()
        tx = conn.channel()
        tx.tx_select()
        tx.basic_publish("", "seed.q", b"in tx")
        tx.tx_commit()
        tx.basic_recover(requeue=True)
        ch.queue_unbind("seed.q", "seed.topic", "a.*.#", arguments={"x-match": "all", "k": 1})
        ch.queue_purge("seed.q")
        ch.queue_delete("seed.q")
        ch.exchange_delete("seed.topic")
        conn.close()
        proxy_thread.join(5)
    finally:
        broker.terminate()
        broker.wait(10)
        listener.close()
    return bytes(recorded)


def split_frames(stream):
    frames = []
    at = 8 if stream.startswith(b"AMQP") else 0
    while at + 7 <= len(stream):
        ftype, channel, size = struct.unpack(">BHI", stream[at:at + 7])
        end = at + 7 + size
        if end >= len(stream):
            break
        frames.append((ftype, channel, stream[at + 7:end]))
        at = end + 1
    return frames


def traffic_seeds(stream):
    body = stream[8:] if stream.startswith(b"AMQP") else stream
    write("frame", frame_max_prefix(131072) + body, "seed-pika-session")
    # fuzz_connection does the handshake itself: its seeds start after connection.open, with
    # the chunk-size byte first (255: 256-byte chunks, 0: byte by byte, 6: 7-byte chunks).
    at = 8
    for ftype, channel, payload in split_frames(stream):
        at += 8 + len(payload)
        if ftype == 1 and payload[:4] == struct.pack(">HH", 10, 40):
            break
    for chunk in (255, 0, 6):
        write("connection", bytes([chunk]) + stream[at:], "seed-pika-session-%d" % chunk)
    for ftype, channel, payload in split_frames(stream):
        if ftype == 1:
            write("method", payload)
        elif ftype == 2:
            write("content_header", payload)
            # The headers table inside the properties, when the headers flag (bit 13) is set.
            flags = struct.unpack(">H", payload[12:14])[0]
            if flags & (1 << 13):
                at = 14
                for bit, kind in ((15, "s"), (14, "s")):
                    if flags & (1 << bit):
                        at += 1 + payload[at]
                n = struct.unpack(">I", payload[at:at + 4])[0]
                write("field_table", payload[at:at + 4 + n])
        write("frame", frame_max_prefix(131072) + frame(ftype, channel, payload))


# ---- the shapes of known parser bugs ----------------------------------------------------------

def hostile_seeds():
    # Field tables: lengths past the end, "negative" (high-bit) lengths, deep nesting, unknown
    # type octets, a long string claiming 4 GB, an array of Void elements.
    write("field_table", struct.pack(">I", 0xFFFFFFFF) + b"\x01key")
    write("field_table", struct.pack(">I", 0x80000000))
    write("field_table", table([("s", b"S" + struct.pack(">I", 0xFFFFFFF0) + b"abc")]))
    write("field_table", table([("x", b"x" + struct.pack(">I", 0x7FFFFFFF))]))
    write("field_table", table([("?", b"Z\x00")]))
    write("field_table", table([("a", b"A" + struct.pack(">I", 64) + b"V" * 64)]))
    for depth in (63, 64, 65, 200):
        inner = table([])
        for _ in range(depth - 1):
            inner = table([("n", b"F" + inner)])
        write("field_table", inner)
        arr = struct.pack(">I", 0)
        for _ in range(depth - 1):
            arr = struct.pack(">I", len(arr) + 1) + b"A" + arr
        write("field_table", table([("a", b"A" + arr)]))
    write("field_table", table([(n, t) for n, t in (
        ("t", b"t\x01"), ("b", b"b\xff"), ("B", b"B\xff"), ("s", b"s\x80\x00"),
        ("u", b"u\xff\xff"), ("I", b"I\x80\x00\x00\x00"), ("i", b"i\xff\xff\xff\xff"),
        ("l", b"l" + b"\x80" + b"\x00" * 7), ("L", b"L" + b"\xff" * 8), ("f", b"f\x7f\xc0\x00\x00"),
        ("d", b"d\x7f\xf8" + b"\x00" * 6), ("D", b"D\x02\x00\x00\x30\x39"),
        ("T", b"T" + b"\xff" * 8), ("V", b"V"))]))
    # Method payloads: queue.declare with a table length past the end, basic.publish with a
    # shortstr longer than the rest, an unknown class, nothing after the ids.
    write("method", struct.pack(">HH", 50, 10) + b"\x00\x00" + shortstr("q") + b"\x00" +
          struct.pack(">I", 0xFFFFFFFF))
    write("method", struct.pack(">HH", 60, 40) + b"\x00\x00" + b"\xff" + b"ex")
    write("method", struct.pack(">HH", 9999, 1))
    write("method", struct.pack(">HH", 10, 11))
    write("method", struct.pack(">HH", 10, 11) + table([]) + shortstr("PLAIN") +
          longstr(b"\x00guest\x00guest") + shortstr("en_US"))
    write("method", struct.pack(">HH", 10, 31) + struct.pack(">HIH", 0xFFFF, 0xFFFFFFFF, 0xFFFF))
    # Content headers: a 2^64-1 body size, flags with the continuation bit set over and over,
    # flags announcing every property with nothing after them, a non-basic class.
    write("content_header", struct.pack(">HHQH", 60, 0, 0xFFFFFFFFFFFFFFFF, 0))
    write("content_header", struct.pack(">HHQ", 60, 0, 1) + b"\x00\x01" * 50 + b"\x00\x00")
    write("content_header", struct.pack(">HHQH", 60, 0, 1, 0xFFFC))
    write("content_header", struct.pack(">HHQH", 10, 0, 1, 0))
    write("content_header", struct.pack(">HHQH", 60, 0, 1, 1 << 13) + struct.pack(">I", 0x7FFFFFFF))
    # Frames: a frame size of 4 GB, a bad end octet, a truncated header, a zero frame_max (no
    # limit) with a huge size, a heartbeat with a payload, an unknown type, a method frame of
    # 3 bytes, back-to-back frames where the second is cut.
    ok = frame(1, 0, struct.pack(">HH", 10, 51))
    write("frame", frame_max_prefix(131072) + struct.pack(">BHI", 1, 0, 0xFFFFFFFF))
    write("frame", frame_max_prefix(0) + struct.pack(">BHI", 3, 1, 0xFFFFFFF0) + b"abc")
    write("frame", frame_max_prefix(4096) + frame(1, 0, b"\x00\x0a\x00\x33", end=b"\x00"))
    write("frame", frame_max_prefix(4096) + b"\x01\x00")
    write("frame", frame_max_prefix(4096) + frame(8, 0, b"x"))
    write("frame", frame_max_prefix(4096) + frame(5, 0, b"abc"))
    write("frame", frame_max_prefix(4096) + frame(1, 0, b"\x00\x0a\x00"))
    write("frame", frame_max_prefix(4096) + ok + ok[:-3])
    write("frame", frame_max_prefix(4096) + frame(2, 1, struct.pack(">HHQH", 60, 0, 2 ** 63, 0)))


def connection_seeds():
    # After the handshake: a content header declaring a 128 MiB body (the broker must not
    # commit that memory before the body arrives), channel.open on channel 65535, a publish
    # whose body overruns its header, methods on a channel never opened, a header frame where a
    # method is expected, channel.close then more frames on it, basic.ack of unknown tags.
    def method(channel, class_id, method_id, args=b""):
        return frame(1, channel, struct.pack(">HH", class_id, method_id) + args)

    open1 = method(1, 20, 10, shortstr(""))
    publish = method(1, 60, 40, b"\x00\x00" + shortstr("") + shortstr("q") + b"\x00")
    header = lambda size: frame(2, 1, struct.pack(">HHQH", 60, 0, size, 0))
    declare = method(1, 50, 10, b"\x00\x00" + shortstr("q") + b"\x00" + table([]))
    seeds = [
        open1 + publish + header(128 * 1024 * 1024) + frame(3, 1, b"x" * 100),
        method(65535, 20, 10, shortstr("")),
        open1 + declare + publish + header(4) + frame(3, 1, b"toolong"),
        method(7, 50, 10, b"\x00\x00" + shortstr("q") + b"\x00" + table([])),
        open1 + header(1),
        open1 + method(1, 20, 40, struct.pack(">H", 200) + shortstr("bye") + b"\x00" * 4) +
        declare,
        open1 + method(1, 60, 80, struct.pack(">Q", 12345) + b"\x01"),
        open1 + declare + method(1, 60, 20, b"\x00\x00" + shortstr("q") + shortstr("") +
                                 b"\x00" + table([])) + publish + header(3) + frame(3, 1, b"abc"),
    ]
    for i, seed in enumerate(seeds):
        write("connection", b"\x07" + seed, "seed-hostile-%d" % i)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--burrowd", required=True)
    args = parser.parse_args()
    hostile_seeds()
    connection_seeds()
    traffic_seeds(record_pika_session(args.burrowd))
    for target in sorted(os.listdir(CORPUS)):
        print(target, len(os.listdir(os.path.join(CORPUS, target))))


if __name__ == "__main__":
    sys.exit(main())
