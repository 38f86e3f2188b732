#!/usr/bin/python3
"""Scale checks of issue 9: many connections, queues+bindings, consumers, slow publishers.

Usage: bench/scale_check.py --burrowd build/release/bin/burrowd [--checks ...] [--scale 0.1]
       bench/scale_check.py --port 5673 --pid PID [--checks ...] [--scale 0.1]   (a running
       broker, e.g. RabbitMQ: PID of its beam.smp, `pgrep -f beam.smp`)

With --burrowd, each check gets a fresh `burrowd --in-memory --bind 127.0.0.1` on a free port
(management API on a free port too, `--http-port 0`; its stderr goes to a log file whose
warnings and errors the result quotes) that is stopped afterwards. With --port/--pid the
broker is only used: the script declares its own objects (named scale-check.*) and deletes
them again. Checks (--checks, comma-separated; all by default), counts times --scale:

  connections  15000 connections opened with raw sockets (handshake as guest, connection.open
               to "/", one channel), 200 handshakes in flight; then one more connection with
               pika must still declare a queue, publish and get a message. Broker RSS before
               and after, bytes per connection, time to open them.
  queues       10000 queues over one connection, each bound to a topic exchange ("sc.N.*")
               and to a direct exchange ("k.N"), pipelined 250 queues at a time; RSS growth
               per queue (with its two bindings), declare rate; then one message through
               each exchange to about 100 sampled queues, read back with basic.get (and the next
               queue must be empty).
  consumers    1000 consumers on one queue (10 connections x 100 channels, prefetch 10,
               manual acks); 10000 messages published with confirms; every message must be
               delivered exactly once; spread of deliveries per consumer.
  publishers   7000 connections each publishing one small message every 5 s (start times
               spread over the 5 s) for 30 s, with confirms; one consumer drains the queue;
               received must equal sent, nothing twice.

Prints one JSON line per check, then a human summary (lines starting with "#"); progress
goes to stderr. Raw sockets over asyncio (no client library except pika for the probe
connection), 127.0.0.1 only. Every phase has a time limit, so each check stops by itself
(a broker that stops answering shows up as timeouts and errors in the JSON, not a hang).
The script holds the client sockets itself: it raises RLIMIT_NOFILE to the hard limit,
which must exceed the connection count (20000 here for 15000 connections). It caps the
connection counts to what the broker's own descriptor limit leaves room for (--max-connections
overrides): RabbitMQ 3.10.8 started with the default soft limit of 1024 takes ~830 AMQP
connections, and when clients keep connecting past that, its mnesia stops on emfile and the
node refuses every login until restarted (seen 2026-11-24).
"""
import argparse
import asyncio
import collections
import json
import os
import resource
import socket
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from conn_memory import rss_bytes  # noqa: E402  (VmRSS of a pid, bytes)

PREFIX = "scale-check"
EMPTY_TABLE = struct.pack(">I", 0)
SHORT0 = struct.pack(">H", 0)


# --- AMQP 0-9-1 frames (the helpers of bench/conn_memory.py, plus content and methods) ---

def shortstr(s):
    if isinstance(s, str):
        s = s.encode()
    return struct.pack(">B", len(s)) + s


def method_frame(channel, class_id, method_id, args=b""):
    payload = struct.pack(">HH", class_id, method_id) + args
    return struct.pack(">BHI", 1, channel, len(payload)) + payload + b"\xce"


def content_frames(channel, body):
    """Content header (class basic, no properties) and one body frame (bodies here are small)."""
    header = struct.pack(">HHQH", 60, 0, len(body), 0)
    return (struct.pack(">BHI", 2, channel, len(header)) + header + b"\xce" +
            struct.pack(">BHI", 3, channel, len(body)) + body + b"\xce")


def channel_open(ch):
    return method_frame(ch, 20, 10, shortstr(b""))


def exchange_declare(ch, name, kind):
    return method_frame(ch, 40, 10, SHORT0 + shortstr(name) + shortstr(kind) + b"\x00" +
                        EMPTY_TABLE)


def exchange_delete(ch, name):
    return method_frame(ch, 40, 20, SHORT0 + shortstr(name) + b"\x00")


def queue_declare(ch, name, passive=False):
    return method_frame(ch, 50, 10, SHORT0 + shortstr(name) + (b"\x01" if passive else b"\x00") +
                        EMPTY_TABLE)


def queue_bind(ch, queue, exchange, key):
    return method_frame(ch, 50, 20, SHORT0 + shortstr(queue) + shortstr(exchange) +
                        shortstr(key) + b"\x00" + EMPTY_TABLE)


def queue_delete(ch, name):
    return method_frame(ch, 50, 40, SHORT0 + shortstr(name) + b"\x00")


def basic_qos(ch, prefetch):
    return method_frame(ch, 60, 10, struct.pack(">IHB", 0, prefetch, 0))


def basic_consume(ch, queue, tag):
    return method_frame(ch, 60, 20, SHORT0 + shortstr(queue) + shortstr(tag) + b"\x00" +
                        EMPTY_TABLE)


def basic_publish(ch, exchange, key, body):
    return (method_frame(ch, 60, 40, SHORT0 + shortstr(exchange) + shortstr(key) + b"\x00") +
            content_frames(ch, body))


def basic_get(ch, queue):
    return method_frame(ch, 60, 70, SHORT0 + shortstr(queue) + b"\x01")  # no-ack


def basic_ack(ch, tag):
    return method_frame(ch, 60, 80, struct.pack(">QB", tag, 0))


def confirm_select(ch):
    return method_frame(ch, 85, 10, b"\x00")


def read_shortstr(buf, pos):
    n = buf[pos]
    return buf[pos + 1:pos + 1 + n], pos + 1 + n


class BrokerClosed(Exception):
    """The broker sent connection.close or channel.close."""


class Amqp:
    """One raw AMQP connection over asyncio streams."""

    def __init__(self, reader, writer):
        self.reader = reader
        self.writer = writer
        self.task = None  # a reader task, when one consumes this connection's frames

    @classmethod
    async def open(cls, port, channels=1, stage=None):
        """Handshake as guest to vhost "/" and open channels 1..channels; `stage` (a list)
        says how far it got, for a timeout's description."""
        stage = stage if stage is not None else [""]
        stage[0] = "tcp connect"
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        c = cls(reader, writer)
        try:
            writer.write(b"AMQP\x00\x00\x09\x01")
            stage[0] = "connection.start"
            await c.expect(10, 10)  # connection.start
            writer.write(method_frame(0, 10, 11, EMPTY_TABLE + shortstr(b"PLAIN") +
                                      struct.pack(">I", 12) + b"\x00guest\x00guest" +
                                      shortstr(b"en_US")))
            stage[0] = "connection.tune"
            await c.expect(10, 30)  # connection.tune
            writer.write(method_frame(0, 10, 31, struct.pack(">HIH", 2047, 131072, 0)) +
                         method_frame(0, 10, 40, shortstr(b"/") + shortstr(b"") + b"\x00"))
            stage[0] = "connection.open-ok"
            await c.expect(10, 41)  # connection.open-ok
            writer.write(b"".join(channel_open(ch) for ch in range(1, channels + 1)))
            stage[0] = "channel.open-ok"
            for _ in range(channels):
                await c.expect(20, 11)  # channel.open-ok
            stage[0] = "setup"
        except BaseException:
            writer.transport.abort()
            raise
        return c

    async def frame(self):
        header = await self.reader.readexactly(7)
        ftype, channel, size = struct.unpack(">BHI", header)
        payload = await self.reader.readexactly(size + 1)
        return ftype, channel, payload[:size]

    async def method(self):
        """The next method frame as (channel, class, method, arguments); heartbeats are
        skipped, a close from the broker raises BrokerClosed."""
        while True:
            ftype, channel, payload = await self.frame()
            if ftype == 8:
                continue
            if ftype != 1:
                raise BrokerClosed("unexpected frame type %d" % ftype)
            class_id, method_id = struct.unpack(">HH", payload[:4])
            if (class_id, method_id) in ((10, 50), (20, 40)):
                code = struct.unpack(">H", payload[4:6])[0]
                text = read_shortstr(payload, 6)[0].decode(errors="replace")
                if class_id == 10:
                    self.writer.write(method_frame(0, 10, 51))
                raise BrokerClosed("%s.close %d %s" % ("connection" if class_id == 10
                                                        else "channel", code, text))
            return channel, class_id, method_id, payload[4:]

    async def expect(self, class_id, method_id):
        _, c, m, args = await self.method()
        if (c, m) != (class_id, method_id):
            raise BrokerClosed("expected %d.%d, got %d.%d" % (class_id, method_id, c, m))
        return args

    async def content(self):
        """The content header and body frames following a basic.deliver or basic.get-ok."""
        ftype, _, payload = await self.frame()
        if ftype != 2:
            raise BrokerClosed("expected a content header, got frame type %d" % ftype)
        size = struct.unpack(">Q", payload[4:12])[0]
        body = b""
        while len(body) < size:
            _, _, payload = await self.frame()
            body += payload
        return body

    async def until_close_ok(self):
        while True:
            ftype, _, payload = await self.frame()
            if ftype == 1 and payload[:4] == b"\x00\x0a\x00\x33":
                return

    async def close(self, timeout=15.0):
        """connection.close; waits for close-ok (read by the reader task if there is one)."""
        try:
            self.writer.write(method_frame(0, 10, 50, struct.pack(">H", 200) +
                                           shortstr(b"scale check done") +
                                           struct.pack(">HH", 0, 0)))
            await asyncio.wait_for(self.task if self.task else self.until_close_ok(), timeout)
            return True
        except Exception:
            return False
        finally:
            self.writer.transport.abort()


def describe(e):
    if isinstance(e, asyncio.TimeoutError):
        return "timeout"
    if isinstance(e, asyncio.IncompleteReadError):
        return "socket closed by the broker"
    if isinstance(e, BrokerClosed):
        return str(e)
    return "%s: %s" % (type(e).__name__, e)


def log(*parts):
    print(time.strftime("%H:%M:%S"), *parts, file=sys.stderr, flush=True)


async def open_many(port, n, channels=1, setup=None, concurrency=200, timeout=15.0,
                    give_up=100, deadline=300.0):
    """Opens n connections, `concurrency` handshakes at a time, each within `timeout` s;
    stops starting new ones after `give_up` failures or `deadline` s. Returns the open
    connections, a Counter of errors (and of those never tried) and the seconds until the
    last one opened."""
    conns, errors = [], collections.Counter()
    sem = asyncio.Semaphore(concurrency)
    t0 = time.monotonic()
    last = [t0]

    async def one():
        async with sem:
            failed = sum(v for k, v in errors.items() if k != "not tried")
            if failed >= give_up or time.monotonic() - t0 > deadline:
                errors["not tried"] += 1
                return
            c, stage = None, [""]
            try:
                c = await asyncio.wait_for(Amqp.open(port, channels, stage), timeout)
                if setup:
                    await asyncio.wait_for(setup(c), timeout)
                conns.append(c)
                last[0] = time.monotonic()
                if len(conns) % 1000 == 0:
                    log("  %d connections open" % len(conns))
            except Exception as e:
                if c:
                    c.writer.transport.abort()
                what = describe(e)
                errors[what + " (waiting for %s)" % stage[0] if what == "timeout" else what] += 1

    await asyncio.gather(*(one() for _ in range(n)))
    return conns, errors, last[0] - t0


async def close_many(conns, concurrency=500):
    sem = asyncio.Semaphore(concurrency)

    async def one(c):
        async with sem:
            return await c.close()

    results = await asyncio.gather(*(one(c) for c in conns))
    return sum(1 for r in results if not r)


# Connections a check may open: a broker that runs out of file descriptors can fail as a
# whole (RabbitMQ 3.10 with the default 1024: mnesia stops on emfile and every later login
# fails until the node is restarted), so main() caps the counts below the broker's limit.
MAX_CONNECTIONS = [None]


def fd_headroom(pid):
    """Connections the broker process can take without running out of file descriptors:
    its soft RLIMIT_NOFILE minus the descriptors it has open, minus a fifth of the limit
    (at least 100) for the files it opens itself. None when /proc does not tell."""
    try:
        with open("/proc/%d/limits" % pid) as f:
            soft = next(int(l.split()[3]) for l in f if l.startswith("Max open files"))
        used = len(os.listdir("/proc/%d/fd" % pid))
    except (OSError, StopIteration, ValueError):
        return None
    return soft - used - max(100, soft // 5)


def capped(n, result):
    if MAX_CONNECTIONS[0] is not None and n > MAX_CONNECTIONS[0]:
        result["capped_from"] = n
        return MAX_CONNECTIONS[0]
    return n


async def settle(pid, seconds=2.0):
    await asyncio.sleep(seconds)
    return rss_bytes(pid)


def mb(n):
    return round(n / 2**20, 1)


def pika_probe(port):
    """A fresh pika connection declares a queue, publishes and gets the message back."""
    import pika
    t0 = time.monotonic()
    try:
        params = pika.ConnectionParameters(
            host="127.0.0.1", port=port, credentials=pika.PlainCredentials("guest", "guest"),
            connection_attempts=1, socket_timeout=10, stack_timeout=15,
            blocked_connection_timeout=15)
        conn = pika.BlockingConnection(params)
        try:
            ch = conn.channel()
            queue = ch.queue_declare("", exclusive=True).method.queue
            ch.basic_publish("", queue, b"probe")
            body = None
            for _ in range(50):
                _, _, body = ch.basic_get(queue, auto_ack=True)
                if body is not None:
                    break
                time.sleep(0.1)
        finally:
            conn.close()
        return {"probe_ok": body == b"probe", "probe_s": round(time.monotonic() - t0, 2)}
    except Exception as e:
        return {"probe_ok": False, "probe_error": "%s: %s" % (type(e).__name__, e),
                "probe_s": round(time.monotonic() - t0, 2)}


def errors_dict(errors):
    return dict(errors.most_common(5)) if errors else {}


# --- the checks: each returns a dict for its JSON line ---

async def check_connections(port, pid, scale, result):
    n = capped(int(15000 * scale), result)
    base = await settle(pid)
    log("connections: opening %d" % n)
    conns, errors, took = await open_many(port, n)
    after = await settle(pid)
    result.update({"connections": len(conns), "target": n, "open_s": round(took, 1),
              "opened_per_s": round(len(conns) / max(took, 1e-3), 1), "errors": errors_dict(errors),
              "rss_before_mb": mb(base), "rss_after_mb": mb(after),
              "kib_per_connection": round((after - base) / max(len(conns), 1) / 1024, 1)})
    log("connections: %d open, probing with pika" % len(conns))
    result.update(await asyncio.to_thread(pika_probe, port))
    t0 = time.monotonic()
    result["close_failures"] = await close_many(conns)
    result["close_s"] = round(time.monotonic() - t0, 1)
    result["rss_after_close_mb"] = mb(await settle(pid))
    result["ok"] = len(conns) == n and result["probe_ok"]


async def pipelined(conn, frames, replies, expected, window, what):
    """Sends frames in windows of `window` items (each item a group of frames answered by
    `replies` replies), reading the replies before the next window; every reply must be one
    of `expected` (class, method)."""
    for start in range(0, len(frames), window):
        batch = frames[start:start + window]
        conn.writer.write(b"".join(batch))
        await conn.writer.drain()
        for _ in range(len(batch) * replies):
            _, c, m, _ = await conn.method()
            if (c, m) not in expected:
                raise BrokerClosed("%s: unexpected %d.%d" % (what, c, m))


async def check_queues(port, pid, scale, result):
    n = int(10000 * scale)
    topic, direct = PREFIX + ".topic", PREFIX + ".direct"
    names = ["%s.q.%05d" % (PREFIX, i) for i in range(n)]
    base = await settle(pid)
    conn = await asyncio.wait_for(Amqp.open(port, channels=2), 15)
    result.update({"queues": n, "bindings": 2 * n})
    try:
        conn.writer.write(exchange_declare(1, topic, "topic") +
                          exchange_declare(1, direct, "direct"))
        await conn.expect(40, 11)
        await conn.expect(40, 11)
        log("queues: declaring %d queues with 2 bindings each" % n)
        frames = [queue_declare(1, q) + queue_bind(1, q, topic, "sc.%d.*" % i) +
                  queue_bind(1, q, direct, "k.%d" % i) for i, q in enumerate(names)]
        t0 = time.monotonic()
        await asyncio.wait_for(pipelined(conn, frames, 3, {(50, 11), (50, 21)}, 250,
                                         "declare"), 300)
        took = time.monotonic() - t0
        after = await settle(pid)
        result.update({"declare_s": round(took, 2), "queues_per_s": round(n / took, 1),
                       "rss_before_mb": mb(base), "rss_after_mb": mb(after),
                       "kib_per_queue_and_2_bindings": round((after - base) / n / 1024, 1)})
        # One message through each exchange to a sample of queues, published with confirms
        # on channel 2; then basic.get on channel 1: both messages, then nothing; the next
        # queue (not addressed) must be empty.
        sample = sorted(set(range(0, n - 1, max(1, (n - 1) // 100))))
        conn.writer.write(confirm_select(2))
        await conn.expect(85, 11)
        conn.writer.write(b"".join(basic_publish(2, topic, "sc.%d.x" % i, b"t%d" % i) +
                                   basic_publish(2, direct, "k.%d" % i, b"d%d" % i)
                                   for i in sample))
        confirmed = 0
        while confirmed < 2 * len(sample):
            _, c, m, args = await asyncio.wait_for(conn.method(), 30)
            if (c, m) != (60, 80):
                raise BrokerClosed("publish: unexpected %d.%d" % (c, m))
            tag, multiple = struct.unpack(">QB", args[:9])
            confirmed = tag if multiple & 1 else confirmed + 1
        wrong = []
        for i in sample:
            conn.writer.write(basic_get(1, names[i]) * 3 + basic_get(1, names[i + 1]))
            got = []
            for _ in range(4):
                _, c, m, _ = await asyncio.wait_for(conn.method(), 30)
                if (c, m) not in ((60, 71), (60, 72)):
                    raise BrokerClosed("get: unexpected %d.%d" % (c, m))
                got.append((await conn.content()) if m == 71 else None)
            if set(got[:2]) != {b"t%d" % i, b"d%d" % i} or got[2:] != [None, None]:
                wrong.append({"queue": i, "got": [g and g.decode() for g in got]})
        result.update({"sampled_queues": len(sample), "routing_wrong": wrong[:5],
                       "routing_ok": not wrong})
    finally:
        log("queues: deleting")
        t0 = time.monotonic()
        try:
            await asyncio.wait_for(pipelined(conn, [queue_delete(1, q) for q in names], 1,
                                             {(50, 41)}, 500, "delete"), 300)
            conn.writer.write(exchange_delete(1, topic) + exchange_delete(1, direct))
            await conn.expect(40, 21)
            await conn.expect(40, 21)
            result["delete_s"] = round(time.monotonic() - t0, 1)
        except Exception as e:  # a broker that closed the channel: delete over a new one
            result["delete_error"] = describe(e)
            await cleanup(port, names, [topic, direct])
        await conn.close()
    result["rss_after_delete_mb"] = mb(await settle(pid))
    result["ok"] = result.get("routing_ok", False) and "delete_error" not in result


async def cleanup(port, queues, exchanges):
    """Deletes the given objects over a fresh connection, one at a time (best effort)."""
    try:
        conn = await asyncio.wait_for(Amqp.open(port), 15)
    except Exception as e:
        log("cleanup failed: %s" % describe(e))
        return
    for q in queues:
        conn.writer.write(queue_delete(1, q))
        try:
            await asyncio.wait_for(conn.expect(50, 41), 15)
        except BrokerClosed:  # 404: already gone; reopen the channel
            conn.writer.write(method_frame(1, 20, 41) + channel_open(1))
            await conn.expect(20, 11)
    for x in exchanges:
        conn.writer.write(exchange_delete(1, x))
        await conn.expect(40, 21)
    await conn.close()


class Consumer:
    """Reads deliveries on a connection whose channels consume, acking each one."""

    def __init__(self, conn, received):
        self.conn = conn
        self.received = received  # list of (consumer tag, body, redelivered)
        self.by_tag = collections.Counter()  # deliveries per consumer (tags are per connection)
        self.error = None
        conn.task = asyncio.ensure_future(self.run())

    async def run(self):
        conn = self.conn
        try:
            while True:
                ftype, ch, payload = await conn.frame()
                if ftype != 1:
                    continue
                class_id, method_id = struct.unpack(">HH", payload[:4])
                if (class_id, method_id) == (60, 60):  # basic.deliver
                    tag, pos = read_shortstr(payload, 4)
                    delivery, redelivered = struct.unpack(">QB", payload[pos:pos + 9])
                    body = await conn.content()
                    self.received.append((tag, body, bool(redelivered)))
                    self.by_tag[tag] += 1
                    conn.writer.write(basic_ack(ch, delivery))
                elif (class_id, method_id) == (10, 51):  # close-ok: done
                    return
                elif (class_id, method_id) in ((10, 50), (20, 40)):
                    code = struct.unpack(">H", payload[4:6])[0]
                    self.error = "close %d %s" % (code, read_shortstr(payload, 6)[0].decode())
                    return
        except Exception as e:
            self.error = describe(e)


async def publish_confirmed(conn, ch, messages, timeout):
    """Publishes (exchange, key, body) messages with confirms; returns how many were acked
    (and nacked) within `timeout` s."""
    conn.writer.write(confirm_select(ch))
    await conn.expect(85, 11)
    acked = nacked = 0
    for start in range(0, len(messages), 500):
        conn.writer.write(b"".join(basic_publish(ch, x, k, b)
                                   for x, k, b in messages[start:start + 500]))
        await conn.writer.drain()
    deadline = time.monotonic() + timeout
    confirmed = 0
    while confirmed < len(messages):
        _, c, m, args = await asyncio.wait_for(conn.method(), deadline - time.monotonic())
        tag, multiple = struct.unpack(">QB", args[:9])
        count = tag - confirmed if multiple & 1 else 1
        confirmed += count
        if (c, m) == (60, 80):
            acked += count
        else:
            nacked += count
    return acked, nacked


async def wait_until(predicate, timeout, step=0.2):
    deadline = time.monotonic() + timeout
    while not predicate() and time.monotonic() < deadline:
        await asyncio.sleep(step)
    return predicate()


async def declare(port, queue):
    conn = await asyncio.wait_for(Amqp.open(port), 15)
    conn.writer.write(queue_declare(1, queue))
    await conn.expect(50, 11)
    return conn


async def consumer_count(conn, queue):
    """(messages, consumers) of a queue, from a passive declare."""
    conn.writer.write(queue_declare(1, queue, passive=True))
    args = await asyncio.wait_for(conn.expect(50, 11), 15)
    _, pos = read_shortstr(args, 0)
    return struct.unpack(">II", args[pos:pos + 8])


def exactly_once(received, sent):
    counts = collections.Counter(body for _, body, _ in received)
    return {"received": len(received), "distinct": len(counts),
            "duplicates": sum(v - 1 for v in counts.values() if v > 1),
            "missing": len(set(sent) - set(counts)),
            "unexpected": len(set(counts) - set(sent)),
            "redelivered": sum(1 for _, _, r in received if r)}


async def check_consumers(port, pid, scale, result):
    per_conn = max(1, int(100 * scale))
    n_conns, n_msgs = 10, int(10000 * scale)
    queue = PREFIX + ".consumers"
    base = await settle(pid, 1.0)
    admin = await declare(port, queue)
    received, consumers = [], []
    result.update({"consumers": n_conns * per_conn, "messages": n_msgs, "prefetch": 10})
    try:
        async def setup(c):
            c.writer.write(b"".join(basic_qos(ch, 10) + basic_consume(ch, queue, "c%d" % ch)
                                    for ch in range(1, per_conn + 1)))
            for _ in range(2 * per_conn):
                await c.method()  # qos-ok, consume-ok
            consumers.append(Consumer(c, received))

        log("consumers: %d connections x %d channels" % (n_conns, per_conn))
        conns, errors, took = await open_many(port, n_conns, channels=per_conn, setup=setup,
                                              concurrency=n_conns, timeout=60)
        result.update({"setup_s": round(took, 1), "setup_errors": errors_dict(errors)})
        result["broker_consumer_count"] = (await consumer_count(admin, queue))[1]
        rss_consuming = await settle(pid, 1.0)
        bodies = [b"%d" % i for i in range(n_msgs)]
        log("consumers: publishing %d messages" % n_msgs)
        t0 = time.monotonic()
        pub = await asyncio.wait_for(Amqp.open(port), 15)
        acked, nacked = await publish_confirmed(pub, 1, [("", queue, b) for b in bodies], 120)
        await wait_until(lambda: len(received) >= n_msgs, 120)
        took = time.monotonic() - t0
        await asyncio.sleep(2.0)  # anything delivered twice would arrive now
        await pub.close()
        result.update({"confirmed": acked, "nacked": nacked, "deliver_s": round(took, 1),
                       "msgs_per_s": round(len(received) / took, 1)})
        result.update(exactly_once(received, bodies))
        result["left_in_queue"] = (await consumer_count(admin, queue))[0]
        result["consumer_errors"] = [c.error for c in consumers if c.error][:5]
        result.update({"rss_before_mb": mb(base), "rss_consuming_mb": mb(rss_consuming),
                       "rss_after_mb": mb(rss_bytes(pid))})
        result.update(spread(consumers, n_conns * per_conn))
        result["close_failures"] = await close_many(conns)
    finally:
        admin.writer.write(queue_delete(1, queue))
        await asyncio.wait_for(admin.expect(50, 41), 30)
        await admin.close()
    result["ok"] = (result["received"] == n_msgs and result["distinct"] == n_msgs and
                    result["duplicates"] == 0 and result["confirmed"] == n_msgs and
                    result["broker_consumer_count"] == n_conns * per_conn)


def spread(consumers, expected):
    """Fewest and most deliveries to one consumer (consumers that got none count as 0)."""
    counts = []
    for c in consumers:
        counts.extend(c.by_tag.values())
    counts.extend([0] * (expected - len(counts)))
    return {"per_consumer_min": min(counts), "per_consumer_max": max(counts),
            "consumers_with_deliveries": sum(1 for v in counts if v)}


async def check_publishers(port, pid, scale, result, period=5.0, duration=30.0):
    n = capped(int(7000 * scale), result)
    rounds = int(duration / period)
    queue = PREFIX + ".publishers"
    base = await settle(pid, 1.0)
    admin = await declare(port, queue)
    received = []
    result.update({"publishers": n, "period_s": period, "duration_s": duration})
    conns = []
    try:
        drain = await asyncio.wait_for(Amqp.open(port), 15)
        drain.writer.write(basic_qos(1, 500) + basic_consume(1, queue, "drain"))
        await drain.expect(60, 11)
        await drain.expect(60, 21)
        consumer = Consumer(drain, received)
        confirms = collections.Counter()

        async def confirm_reader(c):
            try:
                while True:
                    _, cls, m, _ = await c.method()
                    if (cls, m) == (10, 51):  # close-ok: done
                        return
                    if (cls, m) in ((60, 80), (60, 120)):  # basic.ack / nack, one a message
                        confirms["ack" if m == 80 else "nack"] += 1
            except Exception as e:
                confirms[describe(e)] += 1

        async def setup(c):
            c.writer.write(confirm_select(1))
            await c.expect(85, 11)

        log("publishers: opening %d connections" % n)
        conns, errors, took = await open_many(port, n, setup=setup)
        result.update({"connections": len(conns), "open_s": round(took, 1),
                       "open_errors": errors_dict(errors)})
        for c in conns:
            c.task = asyncio.ensure_future(confirm_reader(c))
        rss_open = await settle(pid, 1.0)
        sent, late = [], [0.0]
        rss_max = [rss_open]
        t0 = time.monotonic() + 1.0

        async def publisher(i, c):
            offset = period * i / max(len(conns), 1)
            for k in range(rounds):
                delay = t0 + offset + k * period - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                late[0] = max(late[0], -delay)
                body = b"p%d-%d" % (i, k)
                c.writer.write(basic_publish(1, "", queue, body))
                sent.append(body)

        async def sample_rss():
            while True:
                await asyncio.sleep(1.0)
                rss_max[0] = max(rss_max[0], rss_bytes(pid))

        log("publishers: %d x %d messages over %.0f s" % (len(conns), rounds, duration))
        sampler = asyncio.ensure_future(sample_rss())
        await asyncio.wait_for(asyncio.gather(*(publisher(i, c) for i, c in enumerate(conns))),
                               duration + 60)
        publish_s = time.monotonic() - t0
        done = await wait_until(lambda: len(received) >= len(sent) and
                                sum(confirms.values()) >= len(sent), 60)
        await asyncio.sleep(2.0)
        sampler.cancel()
        result.update({"sent": len(sent), "publish_s": round(publish_s, 1),
                       "client_max_lateness_s": round(late[0], 2), "all_in_time": done,
                       "confirms": dict(confirms), "consumer_error": consumer.error,
                       "rss_before_mb": mb(base), "rss_connections_open_mb": mb(rss_open),
                       "rss_max_mb": mb(rss_max[0]),
                       "kib_per_connection": round((rss_open - base) / max(len(conns), 1)
                                                   / 1024, 1)})
        result.update(exactly_once(received, sent))
        result["left_in_queue"] = (await consumer_count(admin, queue))[0]
        log("publishers: closing")
        result["close_failures"] = await close_many(conns + [drain])
    finally:
        for c in conns:
            c.writer.transport.abort()
        admin.writer.write(queue_delete(1, queue))
        await asyncio.wait_for(admin.expect(50, 41), 30)
        await admin.close()
    result["ok"] = (len(conns) == n and result["received"] == result["sent"] ==
                    n * rounds and result["duplicates"] == 0 and
                    result["confirms"].get("ack") == result["sent"])


CHECKS = {"connections": check_connections, "queues": check_queues,
          "consumers": check_consumers, "publishers": check_publishers}
LIMITS = {"connections": 420, "queues": 420, "consumers": 300, "publishers": 420}


def free_port():
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return port


def start_burrowd(path, name):
    """A fresh in-memory burrowd on a free port; returns (process, port, log file)."""
    port = free_port()
    data = tempfile.mkdtemp(prefix="burrow-scale-")
    log_path = os.path.join(data, "burrowd-%s.log" % name)
    with open(log_path, "wb") as log_file:
        broker = subprocess.Popen([path, "--in-memory", "--bind", "127.0.0.1", "--port",
                                   str(port), "--http-port", "0", "--data-dir", data],
                                  stdout=subprocess.DEVNULL, stderr=log_file)
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port)).close()
            break
        except OSError:
            time.sleep(0.05)
    return broker, port, log_path


def log_findings(log_path):
    """Warning and error lines of a burrowd log (at most 10), with their total."""
    with open(log_path, errors="replace") as f:
        lines = [l.rstrip() for l in f if "] [warn" in l or "] [error" in l or
                 "] [critical" in l]
    return {"broker_log": log_path, "broker_log_problems": len(lines),
            "broker_log_sample": lines[:10]}


def summary(name, r):
    if "error" in r:
        return "%s: FAILED %s" % (name, r["error"])
    if name == "connections":
        return ("connections: %d/%d open in %.1f s (%.0f/s), %.1f KiB each (RSS %.1f -> %.1f "
                "MB), probe %s" % (r["connections"], r["target"], r["open_s"],
                                   r["opened_per_s"], r["kib_per_connection"],
                                   r["rss_before_mb"], r["rss_after_mb"],
                                   "ok" if r["probe_ok"] else "FAILED"))
    if name == "queues":
        return ("queues: %d queues + %d bindings in %s s (%s queues/s), %s KiB per queue "
                "(RSS %s -> %s MB), routing %s" % (
                    r["queues"], r["bindings"], r.get("declare_s"), r.get("queues_per_s"),
                    r.get("kib_per_queue_and_2_bindings"), r.get("rss_before_mb"),
                    r.get("rss_after_mb"), "ok" if r.get("routing_ok") else "FAILED"))
    if name == "consumers":
        return ("consumers: %d consumers (broker counts %d), %d/%d received, %d duplicates, "
                "%d missing, per consumer %d..%d, %.0f msg/s" % (
                    r["consumers"], r["broker_consumer_count"], r["received"], r["messages"],
                    r["duplicates"], r["missing"], r["per_consumer_min"],
                    r["per_consumer_max"], r["msgs_per_s"]))
    return ("publishers: %d/%d connections, %d sent, %d received, %d duplicates, confirms %s, "
            "RSS max %.1f MB (%.1f KiB per connection)" % (
                r["connections"], r["publishers"], r["sent"], r["received"], r["duplicates"],
                r["confirms"], r["rss_max_mb"], r["kib_per_connection"]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--burrowd", help="start a fresh burrowd (this executable) per check")
    parser.add_argument("--port", type=int, help="use a running broker on this port")
    parser.add_argument("--pid", type=int, help="the running broker's process (for its RSS)")
    parser.add_argument("--checks", default=",".join(CHECKS))
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies all counts")
    parser.add_argument("--max-connections", type=int,
                        help="cap on connections per check (default: what the running "
                             "broker's file-descriptor limit leaves room for, see fd_headroom)")
    args = parser.parse_args()
    if not args.burrowd and not (args.port and args.pid):
        parser.error("give --burrowd, or --port and --pid")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    lines = []
    for name in args.checks.split(","):
        broker = log_path = None
        port, pid = args.port, args.pid
        if args.burrowd:
            broker, port, log_path = start_burrowd(args.burrowd, name)
            pid = broker.pid
        MAX_CONNECTIONS[0] = args.max_connections
        if MAX_CONNECTIONS[0] is None:
            MAX_CONNECTIONS[0] = fd_headroom(pid)
            if MAX_CONNECTIONS[0] is None:
                log("cannot read the file-descriptor limit of process %d: counts not capped"
                    % pid)
        t0 = time.monotonic()
        result = {"check": name}  # filled as the check goes: kept when it fails midway
        try:
            asyncio.run(asyncio.wait_for(CHECKS[name](port, pid, args.scale, result),
                                         LIMITS[name]))
        except Exception as e:
            result["error"] = describe(e)
            result["ok"] = False
        result["check_s"] = round(time.monotonic() - t0, 1)
        if broker:
            result["broker_exit"] = broker.poll()  # None: still running, as it should be
            broker.terminate()
            broker.wait(30)
            result.update(log_findings(log_path))
        print(json.dumps(result), flush=True)
        lines.append(summary(name, result))
    for line in lines:
        print("# " + line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
