#!/usr/bin/python3
"""Soak test of burrowd: a mixed AMQP workload for N minutes with a SIGKILL and restart halfway.

Usage: bench/soak.py --burrowd build/release/bin/burrowd [--minutes 30] [--rate 400]
       [--durability fsync|os] [--sample-seconds 10] [--drain-seconds 180] [--keep] ...
       (bench/soak.py --help lists every flag)
  /usr/bin/python3 bench/soak.py --burrowd build/release/bin/burrowd --minutes 2   (quick run)

Starts `burrowd --data-dir TMP --port P --http-port 0 --bind 127.0.0.1` (a copy of the binary in
a temp dir, so a rebuild during the run changes nothing; stderr to TMP/burrowd.log) and runs,
one pika BlockingConnection per thread, about --rate messages/s in total:

  pw1, pw2  persistent, publisher confirms, to durable queue soak.work     (2 x 20 %)
  tw1       transient (delivery_mode 1), no confirms, to soak.work         (30 %)
  pt1       persistent, confirms, to soak.ttl (x-message-ttl, no consumer) (15 %)
  pe1       persistent, confirms, per-message expiration 0.5-3 s, to
            soak.expire (no consumer)                                      (15 %)
  cw1, cw2  consumers of soak.work (prefetch 50, manual acks): 2 % of the message ids are
            rejected (requeue=false) and dead-letter to soak.dlq through soak.dlx; 5 % are
            nacked with requeue the first time any consumer sees them; the rest acked in
            batches (basic.ack multiple=true every --ack-batch deliveries, or when idle)
  cd1       consumer of soak.dlq (acks likewise); soak.ttl and soak.expire expire into it

Every message carries message_id "<publisher>.<seq>"; the script tracks each id in memory.
At half time burrowd is killed with SIGKILL and started again on the same data dir and port
(the consumers stop acking --pause-before-crash seconds before, so the kill finds a backlog
and unacked deliveries); the clients reconnect (retry loops) and carry on. At the end
publishing stops, the consumers drain until every queue is empty (passive queue.declare) or
--drain-seconds pass, burrowd is stopped with SIGTERM and started once more to check that the
queues stay empty, then:

  lost        a persistent message confirmed by the broker that never reached its final queue
              (soak.work for the acked ones, soak.dlq for rejected/expired ones) -> FAIL.
              Publishes whose confirm never came (crash) are "unconfirmed", not counted.
              Except: one lost on its way to soak.dlq whose dead-lettering (expiry due or our
              basic.reject) fell within --dead-letter-crash-window s before the SIGKILL is
              counted as "dead_letter_lost_at_crash" -> FAIL too, unless
              --lenient-dead-letter (for builds before the source delete and the dead-letter
              copy became one write: dead-lettering from classic queues is at-most-once in
              RabbitMQ, and was in burrow; docs/reliability.md 4c).
  duplicates  a second delivery of an id from the same queue is allowed only with
              redelivered=true and, if we had acked it, only when the ack was sent to the
              broker process that was then killed -> otherwise FAIL
  transient   transient messages may be lost when published to the killed broker process,
              never when published to the restarted one -> FAIL
  RSS, fds    of burrowd every --sample-seconds from /proc/PID/status (VmRSS) and /proc/PID/fd;
              for each broker process (load phase), mean of its 2nd quarter vs last quarter:
              RSS ratio above --max-rss-ratio, or fds growing by more than --max-fd-growth -> FAIL
              (judged only with at least 8 samples in the lifetime)
  errors      client errors outside the crash window, burrowd exiting by itself, a non-zero
              exit status on SIGTERM -> FAIL

Progress goes to stderr; the summary is printed as lines starting with "#", then one JSON line
with every figure and the verdict. Exit status 0 on PASS, 1 on FAIL. The temp dir is removed
unless --keep or FAIL.
"""
import argparse
import array
import collections
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import pika

WORK, TTL, EXPIRE, DLQ, DLX = "soak.work", "soak.ttl", "soak.expire", "soak.dlq", "soak.dlx"
DLX_ARGS = {"x-dead-letter-exchange": DLX, "x-dead-letter-routing-key": "dlq"}
PAD = bytes((i * 31 + 7) % 256 for i in range(4096))
REJECT_PCT, NACK_PCT = 2, 5


def log(msg):
    sys.stderr.write("[soak %s] %s\n" % (time.strftime("%H:%M:%S"), msg))
    sys.stderr.flush()


def bucket(seq):
    """Deterministic 0..99 per message (Knuth multiplicative hash of the sequence)."""
    return ((seq * 2654435761) & 0xFFFFFFFF) % 100


# ----------------------------------------------------------------------------------------------
# The broker process

class Broker:
    def __init__(self, binary, data_dir, log_path, port, durability):
        self.binary, self.data_dir, self.log_path = binary, data_dir, log_path
        self.port, self.durability = port, durability
        self.proc = None
        self.lifetime = -1            # index of the current process (0 before the crash)
        self.epoch = 0                # bumped after a kill: connections made later are "new"
        self.ready_seconds = []
        self.kill_times = []          # monotonic time just before each SIGKILL
        self.expected_exit = True

    def start(self, timeout=120):
        self.lifetime += 1
        logf = open(self.log_path, "ab")
        logf.write(("==== soak: start of burrowd lifetime %d at %s ====\n" %
                    (self.lifetime, time.strftime("%Y-%m-%d %H:%M:%S"))).encode())
        logf.flush()
        t0 = time.monotonic()
        self.proc = subprocess.Popen(
            [self.binary, "--data-dir", self.data_dir, "--bind", "127.0.0.1", "--port",
             str(self.port), "--http-port", "0", "--durability", self.durability],
            stdout=subprocess.PIPE, stderr=logf)
        logf.close()
        deadline = t0 + timeout
        line = b""
        while time.monotonic() < deadline:
            r, _, _ = select.select([self.proc.stdout], [], [], 0.5)
            if r:
                line = self.proc.stdout.readline()
                break
            if self.proc.poll() is not None:
                break
        if b"listening on" not in line:
            raise RuntimeError("burrowd did not become ready (exit %s, line %r); see %s" %
                               (self.proc.poll(), line, self.log_path))
        self.ready_seconds.append(round(time.monotonic() - t0, 3))
        self.expected_exit = False
        # Keep reading stdout so the broker never blocks on a full pipe.
        threading.Thread(target=self.proc.stdout.read, daemon=True).start()
        return line.decode().strip()

    def kill(self):
        self.expected_exit = True
        self.kill_times.append(time.monotonic())
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(60)
        self.epoch += 1

    def stop(self, timeout=60):
        self.expected_exit = True
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(30)
            return "timeout (killed)"

    def died(self):
        return not self.expected_exit and self.proc is not None and self.proc.poll() is not None


def proc_sample(pid):
    rss = fds = cpu = None
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1]) * 1024
        fds = len(os.listdir("/proc/%d/fd" % pid))
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None
    return rss, fds, cpu


# ----------------------------------------------------------------------------------------------
# Bookkeeping of every message id

class Publisher:
    def __init__(self, name, queue, share, persistent, confirms, expiration=False):
        self.name, self.queue, self.share = name, queue, share
        self.persistent, self.confirms, self.expiration = persistent, confirms, expiration
        # per sequence number: 0 = not published, 1 = attempted (no confirm: connection lost),
        # 2 = confirmed (or, without confirms, handed to the socket), 3 = nacked by the broker
        self.state = bytearray()
        self.epoch = bytearray()      # broker epoch of the connection it was published on
        self.sent_at = array.array("d")   # monotonic time of the publish
        self.final = DLQ if queue in (TTL, EXPIRE) else WORK
        self.errors = 0

    def expiration_ms(self, seq):
        return 500 + (seq * 104729) % 2500

    def expected_queue(self, seq):
        if self.final == WORK and bucket(seq) < REJECT_PCT:
            return DLQ
        return self.final


class Tracker:
    def __init__(self, publishers):
        self.lock = threading.Lock()
        self.pubs = {p.name: p for p in publishers}
        # per publisher, per queue we consume from: delivery count (saturating) and the epoch+1
        # of our ack (0 = never acked); nacked-with-requeue flag for soak.work
        self.dels = {(p.name, q): bytearray() for p in publishers for q in (WORK, DLQ)}
        self.acked = {(p.name, q): bytearray() for p in publishers for q in (WORK, DLQ)}
        self.nacked = {p.name: bytearray() for p in publishers}
        self.reject_at = {}           # (publisher, seq) -> monotonic time of our basic.reject
        self.c = collections.Counter()
        self.examples = collections.defaultdict(list)

    def new_seq(self, pub):
        with self.lock:
            seq = len(pub.state)
            pub.state.append(0)
            pub.epoch.append(0)
            pub.sent_at.append(0.0)
            for q in (WORK, DLQ):
                self.dels[(pub.name, q)].append(0)
                self.acked[(pub.name, q)].append(0)
            self.nacked[pub.name].append(0)
            return seq

    def example(self, kind, text):
        if len(self.examples[kind]) < 10:
            self.examples[kind].append(text)

    def delivered(self, queue, mid, redelivered, epoch, headers):
        """Records a delivery; returns (pub, seq, first_time) or None for an unknown id."""
        try:
            name, s = mid.rsplit(".", 1)
            seq = int(s)
            pub = self.pubs[name]
        except (ValueError, KeyError, AttributeError):
            with self.lock:
                self.c["unknown_message_id"] += 1
                self.example("unknown_message_id", repr(mid))
            return None
        with self.lock:
            if seq >= len(pub.state):
                self.c["unknown_message_id"] += 1
                self.example("unknown_message_id", repr(mid))
                return None
            key = (name, queue)
            n = self.dels[key][seq]
            self.dels[key][seq] = min(n + 1, 255)
            self.c["deliveries_" + queue] += 1
            if redelivered:
                self.c["redelivered_flag_" + queue] += 1
            acked = self.acked[key][seq]
            if n > 0:
                if not redelivered:
                    self.c["bad_duplicate_not_redelivered"] += 1
                    self.example("bad_duplicate_not_redelivered", "%s from %s (delivery %d)" %
                                 (mid, queue, n + 1))
                elif acked:
                    if acked - 1 < epoch:
                        self.c["duplicate_after_ack_at_crash"] += 1
                    else:
                        self.c["duplicate_after_ack_same_broker"] += 1
                        self.example("duplicate_after_ack_same_broker",
                                     "%s from %s, acked in epoch %d, redelivered in epoch %d" %
                                     (mid, queue, acked - 1, epoch))
                elif queue == WORK and self.nacked[name][seq]:
                    self.c["redelivery_after_nack"] += 1
                else:
                    # delivered before, never settled by us: in flight when a connection
                    # died (the crash); before any crash it would be unexplained
                    self.c["redelivery_unacked_at_crash"] += 1
                    if epoch == 0:
                        self.c["redelivery_unacked_without_crash"] += 1
                        self.example("redelivery_unacked_without_crash", "%s from %s" %
                                     (mid, queue))
            expected = pub.expected_queue(seq)
            if queue == DLQ:
                if expected != DLQ:
                    self.c["unexpected_dead_letter"] += 1
                    self.example("unexpected_dead_letter", mid)
                else:
                    reason = None
                    try:
                        reason = headers["x-death"][0]["reason"]
                        if isinstance(reason, bytes):
                            reason = reason.decode()
                    except (TypeError, KeyError, IndexError):
                        pass
                    want = "rejected" if pub.queue == WORK else "expired"
                    if reason != want:
                        self.c["dead_letter_reason_mismatch"] += 1
                        self.example("dead_letter_reason_mismatch",
                                     "%s reason %r, expected %r" % (mid, reason, want))
            return pub, seq, n == 0

    def settled(self, pub, seq, queue, how, epoch):
        if pub is None:               # an unknown id, already counted
            return
        with self.lock:
            if how == "reject":
                self.reject_at[(pub.name, seq)] = time.monotonic()
            if how == "ack":
                self.acked[(pub.name, queue)][seq] = epoch + 1
            elif how == "nack":
                self.nacked[pub.name][seq] = 1
            self.c["%s_%s" % (how, queue)] += 1

    def verify(self, last_epoch, kill_times, ttl_s, window):
        """Per publisher: lost / unconfirmed / transient figures.

        A confirmed message lost on its way to the dead-letter queue is "dead_letter_lost_at_
        crash" when its dead-lettering (expiry due, or our basic.reject) fell within `window`
        seconds before a SIGKILL (at-most-once dead-lettering, as in RabbitMQ's classic
        queues and in burrow before ClassicQueue::apply wrote both in one batch)."""
        out = {}
        totals = collections.Counter()
        for p in self.pubs.values():
            c = collections.Counter()
            head_due = 0.0            # per-message TTL expires at the head: running maximum
            for seq, st in enumerate(p.state):
                if st == 0:
                    continue
                if p.queue == EXPIRE:
                    own_due = p.sent_at[seq] + p.expiration_ms(seq) / 1000.0
                    head_due = max(head_due, own_due)
                q = p.expected_queue(seq)
                got = self.dels[(p.name, q)][seq] > 0
                if st == 3:
                    c["nacked_by_broker"] += 1
                    continue
                if st == 1:
                    c["unconfirmed"] += 1
                    if got:
                        c["unconfirmed_received"] += 1
                    continue
                c["published"] += 1
                if got:
                    c["received"] += 1
                    if q == DLQ:
                        c["dead_lettered"] += 1
                    continue
                if p.persistent and p.confirms:
                    # when it was (due to be) dead-lettered: earliest, latest
                    if p.queue == TTL:
                        due = (p.sent_at[seq] + ttl_s,) * 2
                    elif p.queue == EXPIRE:
                        due = (own_due, head_due)
                    elif (p.name, seq) in self.reject_at:
                        due = (self.reject_at[(p.name, seq)],) * 2
                    else:
                        due = None
                    kill = None
                    if due:
                        for k in kill_times:
                            if due[0] <= k + 0.01 and due[1] >= k - window:
                                kill = k
                    what = "%s.%d (expected in %s, published epoch %d, %.3f s before the kill" \
                        % (p.name, seq, q, p.epoch[seq],
                           (kill_times[0] if kill_times else 0) - p.sent_at[seq])
                    if due:
                        what += ", dead-letter due %.3f..%.3f s before the kill" % (
                            (kill_times[0] if kill_times else 0) - due[0],
                            (kill_times[0] if kill_times else 0) - due[1])
                    what += ")"
                    if kill is not None and q == DLQ:
                        c["dead_letter_lost_at_crash"] += 1
                        self.example("dead_letter_lost_at_crash", what)
                    else:
                        c["lost_confirmed"] += 1
                        self.example("lost_confirmed", what)
                elif p.epoch[seq] < last_epoch:
                    c["transient_lost_at_crash"] += 1
                else:
                    c["transient_lost_without_crash"] += 1
                    self.example("transient_lost_without_crash", "%s.%d (expected in %s)" %
                                 (p.name, seq, q))
            out[p.name] = dict(c)
            totals.update(c)
        return out, totals


# ----------------------------------------------------------------------------------------------
# Clients

class Ctx:
    def __init__(self, args, broker, tracker):
        self.args, self.broker, self.tracker = args, broker, tracker
        self.stop_publishing = threading.Event()
        self.stop_consuming = threading.Event()
        self.pause_consumers = threading.Event()
        self.crash_window = None       # (kill time, ready time + grace), monotonic
        self.errors = collections.Counter()
        self.error_examples = []
        self.unexpected_errors = 0

    def params(self):
        return pika.ConnectionParameters(
            host="127.0.0.1", port=self.broker.port,
            credentials=pika.PlainCredentials("guest", "guest"), heartbeat=30,
            blocked_connection_timeout=120, connection_attempts=1, socket_timeout=5,
            stack_timeout=15)

    def in_crash_window(self):
        w = self.crash_window
        now = time.monotonic()
        return w is not None and w[0] - 1 <= now <= (w[1] if w[1] else now + 1)

    def client_error(self, who, exc):
        kind = "%s: %s" % (type(exc).__name__, str(exc)[:160])
        expected = self.in_crash_window() or isinstance(exc, pika.exceptions.AMQPConnectionError) \
            and self.broker.expected_exit
        with self.tracker.lock:
            self.errors[("crash window " if expected else "UNEXPECTED ") + type(exc).__name__] += 1
            if not expected:
                self.unexpected_errors += 1
                if len(self.error_examples) < 20:
                    self.error_examples.append("%s %s %s" % (time.strftime("%H:%M:%S"), who, kind))
        if not expected:
            log("%s: unexpected client error %s" % (who, kind))


def declare_all(ch, ttl_ms):
    ch.exchange_declare(DLX, "direct", durable=True)
    ch.queue_declare(DLQ, durable=True)
    ch.queue_bind(DLQ, DLX, "dlq")
    ch.queue_declare(WORK, durable=True, arguments=dict(DLX_ARGS))
    ch.queue_declare(TTL, durable=True, arguments=dict(DLX_ARGS, **{"x-message-ttl": ttl_ms}))
    ch.queue_declare(EXPIRE, durable=True, arguments=dict(DLX_ARGS))


def publisher_thread(ctx, pub, rate):
    tr = ctx.tracker
    interval = 1.0 / rate if rate > 0 else 1.0
    while not ctx.stop_publishing.is_set():
        conn = None
        try:
            epoch = ctx.broker.epoch          # read before connecting: labels stay conservative
            conn = pika.BlockingConnection(ctx.params())
            ch = conn.channel()
            if pub.confirms:
                ch.confirm_delivery()
            next_t = time.monotonic()
            while not ctx.stop_publishing.is_set():
                now = time.monotonic()
                if next_t > now:
                    conn.sleep(next_t - now)   # services heartbeats while waiting
                elif now - next_t > 1.0:
                    next_t = now               # fell behind: do not burst
                next_t += interval
                seq = tr.new_seq(pub)
                pub.epoch[seq] = epoch
                mid = "%s.%d" % (pub.name, seq)
                size = 32 + (seq * 7919) % 2000
                body = mid.encode() + b"|" + PAD[:size]
                props = pika.BasicProperties(delivery_mode=2 if pub.persistent else 1,
                                             message_id=mid,
                                             content_type="application/octet-stream")
                if pub.expiration:
                    props.expiration = str(pub.expiration_ms(seq))
                pub.state[seq] = 1
                pub.sent_at[seq] = time.monotonic()
                try:
                    ch.basic_publish("", pub.queue, body, props)
                    pub.state[seq] = 2
                except pika.exceptions.NackError:
                    pub.state[seq] = 3
                    with tr.lock:
                        tr.c["publisher_nack_from_broker"] += 1
                        tr.example("publisher_nack_from_broker", mid)
        except Exception as exc:  # noqa: BLE001 - any failure: reconnect
            ctx.client_error(pub.name, exc)
            time.sleep(0.5)
        finally:
            if conn is not None and conn.is_open:
                try:
                    conn.close()
                except Exception:  # noqa: BLE001
                    pass


def consumer_thread(ctx, name, queue):
    """Manual acks, acked in batches (basic.ack multiple) of --ack-batch or when idle, so a
    crash finds deliveries in flight; rejects and nacks are sent one by one."""
    tr = ctx.tracker
    while not ctx.stop_consuming.is_set():
        conn = None
        pending = []                  # (pub, seq, delivery tag) recorded, ack not yet sent

        def flush():
            if pending:
                for pub, seq, _ in pending:
                    tr.settled(pub, seq, queue, "ack", epoch)
                tag = pending[-1][2]
                del pending[:]
                ch.basic_ack(tag, multiple=True)

        try:
            epoch = ctx.broker.epoch
            conn = pika.BlockingConnection(ctx.params())
            ch = conn.channel()
            ch.basic_qos(prefetch_count=ctx.args.prefetch)
            for method, props, body in ch.consume(queue, auto_ack=False, inactivity_timeout=0.5):
                while ctx.pause_consumers.is_set() and not ctx.stop_consuming.is_set():
                    conn.sleep(0.2)           # hold everything unacked until the crash
                if ctx.stop_consuming.is_set():
                    break
                if method is None:
                    flush()
                    continue
                mid = props.message_id
                if mid is None and body:
                    mid = body.split(b"|", 1)[0].decode(errors="replace")
                r = tr.delivered(queue, mid, method.redelivered, epoch, props.headers)
                if r is None:
                    pending.append((None, None, method.delivery_tag))
                    continue
                pub, seq, first = r
                b = bucket(seq)
                # Recorded before it is sent: the other consumer may get a requeued message
                # back before this thread runs again.
                if queue == WORK and b < REJECT_PCT:
                    tr.settled(pub, seq, queue, "reject", epoch)
                    ch.basic_reject(method.delivery_tag, requeue=False)
                elif queue == WORK and b < REJECT_PCT + NACK_PCT and first:
                    tr.settled(pub, seq, queue, "nack", epoch)
                    ch.basic_nack(method.delivery_tag, requeue=True)
                else:
                    pending.append((pub, seq, method.delivery_tag))
                    if len(pending) >= ctx.args.ack_batch:
                        flush()
            flush()
            try:
                ch.cancel()
            except Exception:  # noqa: BLE001
                pass
        except Exception as exc:  # noqa: BLE001
            ctx.client_error(name, exc)
            time.sleep(0.5)
        finally:
            if conn is not None and conn.is_open:
                try:
                    conn.close()
                except Exception:  # noqa: BLE001
                    pass


def queue_depths(ctx, queues=(WORK, TTL, EXPIRE, DLQ)):
    conn = pika.BlockingConnection(ctx.params())
    try:
        ch = conn.channel()
        return {q: ch.queue_declare(q, passive=True).method.message_count for q in queues}
    finally:
        conn.close()


# ----------------------------------------------------------------------------------------------
# Sampling and analysis

def dir_bytes(path):
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            try:
                total += os.path.getsize(os.path.join(root, f))
            except OSError:
                pass
    return total


def sampler_thread(ctx, samples, stop):
    b = ctx.broker
    t0 = time.monotonic()
    while not stop.wait(max(0.0, ctx.args.sample_seconds - (time.monotonic() - t0) %
                            ctx.args.sample_seconds)):
        proc = b.proc
        if proc is None or proc.poll() is not None:
            continue
        s = proc_sample(proc.pid)
        if s is None:
            continue
        samples.append({"t": round(time.monotonic() - t0, 1), "lifetime": b.lifetime,
                        "load": not ctx.stop_publishing.is_set(),
                        "rss_mb": round(s[0] / 2**20, 1), "fds": s[1], "cpu_s": round(s[2], 2),
                        "disk_mb": round(dir_bytes(b.data_dir) / 2**20, 1)})


def mean(xs):
    return sum(xs) / len(xs) if xs else None


def slope_per_hour(points):
    """Least-squares slope of (t seconds, y) in y per hour."""
    if len(points) < 3:
        return None
    mt = mean([p[0] for p in points])
    my = mean([p[1] for p in points])
    den = sum((p[0] - mt) ** 2 for p in points)
    if den == 0:
        return None
    return sum((p[0] - mt) * (p[1] - my) for p in points) / den * 3600


def analyse_lifetime(samples, args):
    n = len(samples)
    res = {"samples": n}
    if n == 0:
        return res
    rss = [s["rss_mb"] for s in samples]
    fds = [s["fds"] for s in samples]
    res.update({"rss_mb_first": rss[0], "rss_mb_min": min(rss), "rss_mb_max": max(rss),
                "rss_mb_last": rss[-1], "fds_first": fds[0], "fds_min": min(fds),
                "fds_max": max(fds), "fds_last": fds[-1],
                "seconds": round(samples[-1]["t"] - samples[0]["t"], 1)})
    if n >= 4:
        q2 = samples[n // 4:n // 2]
        q4 = samples[(3 * n) // 4:]
        r2, r4 = mean([s["rss_mb"] for s in q2]), mean([s["rss_mb"] for s in q4])
        f2, f4 = mean([s["fds"] for s in q2]), mean([s["fds"] for s in q4])
        warm = samples[n // 4:]
        res.update({
            "rss_mb_mean_q2": round(r2, 1), "rss_mb_mean_q4": round(r4, 1),
            "rss_ratio_q4_q2": round(r4 / r2, 3),
            "rss_mb_per_hour_after_warmup": round(slope_per_hour(
                [(s["t"], s["rss_mb"]) for s in warm]) or 0, 1),
            "fds_mean_q2": round(f2, 1), "fds_mean_q4": round(f4, 1),
            "fds_growth_q4_q2": round(f4 - f2, 1),
            "fds_per_hour_after_warmup": round(slope_per_hour(
                [(s["t"], s["fds"]) for s in warm]) or 0, 1)})
        if len(samples) >= 2 and samples[-1]["t"] > samples[0]["t"]:
            res["cpu_percent"] = round(100 * (samples[-1]["cpu_s"] - samples[0]["cpu_s"]) /
                                       (samples[-1]["t"] - samples[0]["t"]), 1)
        res["judged"] = n >= 8
    else:
        res["judged"] = False
    return res


def log_findings(path):
    """Warnings and errors burrowd logged, and its recovery lines."""
    warn, recovered = [], []
    try:
        with open(path, errors="replace") as f:
            for line in f:
                if "] [warn" in line or "] [error" in line or "] [critical" in line:
                    warn.append(line.strip()[:300])
                elif "recovered " in line:
                    recovered.append(line.strip()[:300])
    except OSError:
        pass
    return warn, recovered


# ----------------------------------------------------------------------------------------------

def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--burrowd", required=True)
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument("--rate", type=float, default=400.0, help="total msg/s published")
    parser.add_argument("--durability", default="fsync", choices=["fsync", "os"])
    parser.add_argument("--sample-seconds", type=float, default=10.0)
    parser.add_argument("--drain-seconds", type=float, default=180.0)
    parser.add_argument("--queue-ttl-ms", type=int, default=3000)
    parser.add_argument("--prefetch", type=int, default=50)
    parser.add_argument("--ack-batch", type=int, default=20,
                        help="consumers ack with multiple=true every N deliveries (or idle)")
    parser.add_argument("--pause-before-crash", type=float, default=5.0,
                        help="seconds the consumers stop acking before the SIGKILL, so a "
                        "backlog and unacked deliveries are there when it comes")
    parser.add_argument("--restart-delay", type=float, default=2.0,
                        help="seconds between the SIGKILL and the restart")
    parser.add_argument("--max-rss-ratio", type=float, default=1.2)
    parser.add_argument("--max-fd-growth", type=float, default=16)
    parser.add_argument("--dead-letter-crash-window", type=float, default=1.0,
                        help="seconds before the SIGKILL in which a lost dead-letter counts as "
                        "in flight (at-most-once dead-lettering)")
    parser.add_argument("--lenient-dead-letter", action="store_true",
                        help="do not FAIL on dead letters lost at the crash (builds before "
                        "dead-lettering became one write)")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir")
    args = parser.parse_args()

    tmp = tempfile.mkdtemp(prefix="burrow-soak-")
    data_dir = os.path.join(tmp, "data")
    log_path = os.path.join(tmp, "burrowd.log")
    binary = os.path.join(tmp, "burrowd")
    shutil.copy2(args.burrowd, binary)
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    broker = Broker(binary, data_dir, log_path, port, args.durability)

    r = args.rate
    pubs = [Publisher("pw1", WORK, 0.20, True, True), Publisher("pw2", WORK, 0.20, True, True),
            Publisher("tw1", WORK, 0.30, False, False), Publisher("pt1", TTL, 0.15, True, True),
            Publisher("pe1", EXPIRE, 0.15, True, True, expiration=True)]
    tracker = Tracker(pubs)
    ctx = Ctx(args, broker, tracker)
    duration = args.minutes * 60
    result = {"minutes": args.minutes, "rate_target": r, "durability": args.durability,
              "burrowd": os.path.abspath(args.burrowd),
              "burrowd_mtime": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                             time.gmtime(os.path.getmtime(args.burrowd))),
              "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    reasons = []
    samples = []
    sampler_stop = threading.Event()
    threads = []
    try:
        log("tmp %s; starting %s" % (tmp, " ".join([binary, "--data-dir", data_dir, "--port",
                                                     str(port), "--durability",
                                                     args.durability])))
        log(broker.start())
        conn = pika.BlockingConnection(ctx.params())
        declare_all(conn.channel(), args.queue_ttl_ms)
        conn.close()
        st = threading.Thread(target=sampler_thread, args=(ctx, samples, sampler_stop),
                              daemon=True)
        st.start()
        consumers = [threading.Thread(target=consumer_thread, args=(ctx, n, q), daemon=True)
                     for n, q in (("cw1", WORK), ("cw2", WORK), ("cd1", DLQ))]
        publishers = [threading.Thread(target=publisher_thread, args=(ctx, p, r * p.share),
                                       daemon=True) for p in pubs]
        for t in consumers + publishers:
            t.start()
        threads = consumers + publishers
        t_start = time.monotonic()
        crash_at = t_start + duration / 2
        end_at = t_start + duration
        crashed = False
        last_report = t_start
        report_every = min(60.0, max(10.0, duration / 12))
        while time.monotonic() < end_at:
            time.sleep(0.5)
            now = time.monotonic()
            if broker.died():
                reasons.append("burrowd exited by itself with status %s (lifetime %d)" %
                               (broker.proc.returncode, broker.lifetime))
                log(reasons[-1])
                break
            if not crashed and now >= crash_at - args.pause_before_crash:
                if not ctx.pause_consumers.is_set():
                    log("consumers paused for %.0f s before the crash" % args.pause_before_crash)
                ctx.pause_consumers.set()
            if not crashed and now >= crash_at:
                crashed = True
                ctx.crash_window = (now, None)
                s = proc_sample(broker.proc.pid)
                log("SIGKILL burrowd pid %d (rss %.1f MB, %d fds)" %
                    (broker.proc.pid, s[0] / 2**20 if s else -1, s[1] if s else -1))
                result["crash_at_seconds"] = round(now - t_start, 1)
                broker.kill()
                time.sleep(args.restart_delay)
                log("restarting: " + broker.start())
                ctx.pause_consumers.clear()
                ctx.crash_window = (ctx.crash_window[0], time.monotonic() + 10)
                log("ready after %.2f s" % broker.ready_seconds[-1])
            if now - last_report >= report_every:
                last_report = now
                with tracker.lock:
                    sent = sum(len(p.state) for p in pubs)
                    dels = tracker.c["deliveries_" + WORK] + tracker.c["deliveries_" + DLQ]
                smp = samples[-1] if samples else {}
                log("t=%4.0fs published %d delivered %d  rss %s MB fds %s disk %s MB errors %d"
                    % (now - t_start, sent, dels, smp.get("rss_mb"), smp.get("fds"),
                       smp.get("disk_mb"), sum(ctx.errors.values())))
        load_seconds = time.monotonic() - t_start
        log("stopping publishers")
        ctx.stop_publishing.set()
        for t in publishers:
            t.join(30)
        if any(t.is_alive() for t in publishers):
            reasons.append("a publisher thread did not stop within 30 s")
        result["load_seconds"] = round(load_seconds, 1)
        published = sum(len(p.state) for p in pubs)
        result["published_rate"] = round(published / load_seconds, 1)

        # Drain: every queue empty (ready messages) three checks in a row, deliveries settled.
        drain_start = time.monotonic()
        drained = False
        quiet = 0
        last_dels = -1
        depths = {}
        while time.monotonic() - drain_start < args.drain_seconds and not broker.died():
            try:
                depths = queue_depths(ctx)
            except Exception as exc:  # noqa: BLE001
                ctx.client_error("drain-check", exc)
                time.sleep(1)
                continue
            with tracker.lock:
                dels = tracker.c["deliveries_" + WORK] + tracker.c["deliveries_" + DLQ]
            if sum(depths.values()) == 0 and dels == last_dels:
                quiet += 1
                if quiet >= 3:
                    drained = True
                    break
            else:
                quiet = 0
            last_dels = dels
            time.sleep(1)
        result["drain_seconds"] = round(time.monotonic() - drain_start, 1)
        result["queue_depths_after_drain"] = depths
        if not drained:
            reasons.append("queues not drained within %.0f s: %s" % (args.drain_seconds, depths))
        ctx.stop_consuming.set()
        for t in consumers:
            t.join(30)
        sampler_stop.set()
        st.join(5)
        if broker.died():
            reasons.append("burrowd exited by itself with status %s (lifetime %d)" %
                           (broker.proc.returncode, broker.lifetime))
        else:
            s = proc_sample(broker.proc.pid)
            if s:
                result["idle_after_drain"] = {"rss_mb": round(s[0] / 2**20, 1), "fds": s[1]}
            code = broker.stop()
            result["sigterm_exit_status"] = code
            if code != 0:
                reasons.append("burrowd exited with status %s on SIGTERM" % code)
            # Once more: a clean restart must not bring anything back.
            try:
                broker.start()
                result["after_clean_restart_depths"] = queue_depths(ctx)
                if sum(result["after_clean_restart_depths"].values()):
                    reasons.append("messages came back after a clean restart: %s" %
                                   result["after_clean_restart_depths"])
                code = broker.stop()
                if code != 0:
                    reasons.append("burrowd exited with status %s on the second SIGTERM" % code)
            except Exception as exc:  # noqa: BLE001
                reasons.append("clean restart check failed: %s" % exc)
    except Exception as exc:  # noqa: BLE001
        reasons.append("soak aborted: %s: %s" % (type(exc).__name__, exc))
        log(reasons[-1])
    finally:
        ctx.stop_publishing.set()
        ctx.stop_consuming.set()
        sampler_stop.set()
        if broker.proc is not None and broker.proc.poll() is None:
            broker.stop(20)
        for t in threads:
            t.join(10)

    # ------------------------------------------------------------------ verification
    per_pub, tot = tracker.verify(broker.epoch, broker.kill_times, args.queue_ttl_ms / 1000.0,
                                  args.dead_letter_crash_window)
    c = tracker.c
    result["messages"] = {
        "published_total": sum(len(p.state) for p in pubs),
        "persistent_confirmed": sum(v.get("published", 0) for k, v in per_pub.items()
                                    if tracker.pubs[k].confirms),
        "persistent_unconfirmed_at_crash": tot["unconfirmed"],
        "unconfirmed_but_received": tot["unconfirmed_received"],
        "transient_sent": per_pub["tw1"].get("published", 0),
        "dead_lettered_received": tot["dead_lettered"],
        "nacked_by_broker": tot["nacked_by_broker"],
    }
    result["per_publisher"] = per_pub
    result["lost_confirmed"] = tot["lost_confirmed"]
    result["dead_letter_lost_at_crash"] = tot["dead_letter_lost_at_crash"]
    result["transient_lost_at_crash"] = tot["transient_lost_at_crash"]
    result["transient_lost_without_crash"] = tot["transient_lost_without_crash"]
    result["duplicates"] = {k: c[k] for k in (
        "redelivery_after_nack", "redelivery_unacked_at_crash",
        "redelivery_unacked_without_crash", "duplicate_after_ack_at_crash",
        "duplicate_after_ack_same_broker", "bad_duplicate_not_redelivered")}
    result["consumer"] = {k: c[k] for k in sorted(c) if k.startswith(
        ("deliveries_", "redelivered_flag_", "ack_", "nack_", "reject_"))}
    result["anomalies"] = {k: c[k] for k in ("unexpected_dead_letter",
                                             "dead_letter_reason_mismatch", "unknown_message_id",
                                             "publisher_nack_from_broker")}
    result["client_errors"] = dict(ctx.errors)
    result["burrowd_ready_seconds"] = broker.ready_seconds
    lifetimes = {}
    for lt in sorted({s["lifetime"] for s in samples}):
        ss = [s for s in samples if s["lifetime"] == lt and s["load"]]
        lifetimes["lifetime%d" % lt] = analyse_lifetime(ss, args)
    result["rss_fd"] = lifetimes
    result["rss_series_mb"] = [s["rss_mb"] for s in samples]
    result["fd_series"] = [s["fds"] for s in samples]
    result["data_dir_mb_series"] = [s["disk_mb"] for s in samples]
    warn, recovered = log_findings(log_path)
    result["burrowd_log_warnings"] = len(warn)
    result["burrowd_log_warning_examples"] = warn[:10]
    result["burrowd_recovery_lines"] = recovered

    if result["lost_confirmed"]:
        reasons.append("%d confirmed persistent messages lost" % result["lost_confirmed"])
    if result["dead_letter_lost_at_crash"] and not args.lenient_dead_letter:
        reasons.append("%d confirmed messages lost while being dead-lettered at the crash" %
                       result["dead_letter_lost_at_crash"])
    if result["transient_lost_without_crash"]:
        reasons.append("%d transient messages lost without a crash" %
                       result["transient_lost_without_crash"])
    for k in ("duplicate_after_ack_same_broker", "bad_duplicate_not_redelivered"):
        if c[k]:
            reasons.append("%d x %s" % (c[k], k))
    for k, v in result["anomalies"].items():
        if v:
            reasons.append("%d x %s" % (v, k))
    if ctx.unexpected_errors:
        reasons.append("%d client errors outside the crash window" % ctx.unexpected_errors)
    for name, lt in lifetimes.items():
        if not lt.get("judged"):
            continue
        if lt["rss_ratio_q4_q2"] > args.max_rss_ratio:
            reasons.append("%s: RSS grew, last quarter / 2nd quarter = %.3f" %
                           (name, lt["rss_ratio_q4_q2"]))
        if lt["fds_growth_q4_q2"] > args.max_fd_growth:
            reasons.append("%s: open fds grew by %.1f" % (name, lt["fds_growth_q4_q2"]))
    if not any(lt.get("judged") for lt in lifetimes.values()):
        result["rss_fd_note"] = "too few samples per lifetime to judge RSS/fd flatness"
    if tracker.examples:
        result["examples"] = dict(tracker.examples)
    if ctx.error_examples:
        result["unexpected_error_examples"] = ctx.error_examples
    result["verdict"] = "FAIL" if reasons else "PASS"
    result["reasons"] = reasons

    m = result["messages"]
    print("# soak: %.1f min, %d msgs published (%.0f/s), crash at %ss, durability %s" %
          (args.minutes, m["published_total"], result.get("published_rate", 0),
           result.get("crash_at_seconds"), args.durability))
    print("# confirmed persistent %d, lost %d (+ %d dead letters in flight at the kill); "
          "unconfirmed at crash %d (%d arrived anyway)" %
          (m["persistent_confirmed"], result["lost_confirmed"],
           result["dead_letter_lost_at_crash"],
           m["persistent_unconfirmed_at_crash"], m["unconfirmed_but_received"]))
    print("# transient sent %d, lost at crash %d, lost otherwise %d; dead-lettered %d" %
          (m["transient_sent"], result["transient_lost_at_crash"],
           result["transient_lost_without_crash"], m["dead_lettered_received"]))
    print("# duplicates: " + ", ".join("%s %d" % kv for kv in result["duplicates"].items()))
    for name, lt in lifetimes.items():
        print("# %s: %d samples, RSS %s..%s MB, q2 %s q4 %s ratio %s; fds %s->%s (q4-q2 %s)" %
              (name, lt.get("samples", 0), lt.get("rss_mb_min"), lt.get("rss_mb_max"),
               lt.get("rss_mb_mean_q2"), lt.get("rss_mb_mean_q4"), lt.get("rss_ratio_q4_q2"),
               lt.get("fds_first"), lt.get("fds_last"), lt.get("fds_growth_q4_q2")))
    print("# verdict %s%s" % (result["verdict"], (": " + "; ".join(reasons)) if reasons else ""))
    if reasons or args.keep:
        print("# kept %s (burrowd log: %s)" % (tmp, log_path))
        result["kept_dir"] = tmp
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(result))
    sys.stdout.flush()
    return 1 if reasons else 0


if __name__ == "__main__":
    sys.exit(main())
