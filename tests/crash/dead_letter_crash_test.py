#!/usr/bin/env python3
"""Dead-lettering crash test (issue 9): burrowd is killed (SIGKILL, by a kill point armed with
BURROW_KILL_AT=name:N) while persistent messages are dead-lettered from a durable queue into a
durable dead-letter queue, then restarted; every message must be in exactly one of the two
queues afterwards - none lost, none in both.

A dead letter leaves its queue and enters the dead-letter queue in one atomic store write
(broker/classic_queue.cc, ClassicQueue::apply). Before, the source's delete and the copy's put
were two writes, and a crash between them lost the message (docs/reliability.md 4c); putting
the copy first would have duplicated it instead.

Scenarios, each on a fresh data directory:
  rejected  N confirmed messages; after a restart with the kill point armed, each is fetched
            with basic.get and rejected (requeue=false).
  expired   with the kill point armed, N messages are published (confirms) with a 200 ms
            expiration and left to expire.
Kill points (storage/kill_point.h): queue.before_dead_letter_write (dead letters routed in
memory, their batch not written), writer.before_wal_write / writer.after_wal_write (any write
of the group-commit writer), at several pass counts.

Usage: dead_letter_crash_test.py BURROWD [--seed S]
"""
import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, "/usr/lib/python3/dist-packages")
import pika  # noqa: E402

N = 20
SOURCE = "dl.source"
TARGET = "dl.target"


class Broker:
    def __init__(self, binary, data_dir, kill_at=None):
        env = dict(os.environ)
        env.setdefault("ASAN_OPTIONS", "detect_leaks=0")
        env.pop("BURROW_KILL_AT", None)
        if kill_at:
            env["BURROW_KILL_AT"] = kill_at
        self.proc = subprocess.Popen(
            [binary, "--port", "0", "--http-port", "0", "--bind", "127.0.0.1", "--data-dir",
             data_dir, "--durability", "fsync", "--log-level", "warn"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        line = self.proc.stdout.readline().decode()
        self.params = None
        if "listening" not in line:
            # An armed writer kill point may fire on a write of the start-up itself.
            if kill_at and self.proc.wait(timeout=60) == -signal.SIGKILL:
                return
            self.proc.kill()
            raise AssertionError("burrowd did not start: %r %s" % (line, self.proc.stderr.read()))
        port = int(line.split()[3].rsplit(":", 1)[1])
        self.params = pika.ConnectionParameters("127.0.0.1", port, heartbeat=0)

    def killed(self):
        return self.proc.poll() == -signal.SIGKILL

    def stop(self):
        """SIGTERM unless the kill point already killed it; returns whether it was killed."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=60)
        stderr = self.proc.stderr.read().decode(errors="replace")
        if "ERROR: AddressSanitizer" in stderr or "runtime error:" in stderr:
            raise AssertionError("sanitizer report from burrowd:\n" + stderr[-4000:])
        rc = self.proc.returncode
        if rc not in (0, -signal.SIGKILL):
            raise AssertionError("burrowd exited with %s:\n%s" % (rc, stderr[-4000:]))
        return rc == -signal.SIGKILL


def declare(ch):
    ch.queue_declare(TARGET, durable=True)
    ch.queue_declare(SOURCE, durable=True, arguments={
        "x-dead-letter-exchange": "", "x-dead-letter-routing-key": TARGET})


def publish(ch, bodies, expiration=None):
    ch.confirm_delivery()
    for body in bodies:
        ch.basic_publish("", SOURCE, body,
                         pika.BasicProperties(delivery_mode=2, expiration=expiration))


def drain(ch, queue):
    got = []
    while True:
        method, props, body = ch.basic_get(queue, auto_ack=True)
        if method is None:
            return got
        got.append((body, props))


def check(binary, data_dir, confirmed, plan):
    """Restart without a kill point; every confirmed message is in exactly one queue."""
    broker = Broker(binary, data_dir)
    try:
        conn = pika.BlockingConnection(broker.params)
        ch = conn.channel()
        # Expired messages recovered in the source are dead-lettered after the restart.
        deadline = time.monotonic() + 10
        while ch.queue_declare(SOURCE, passive=True).method.message_count and \
                any(b.startswith(b"expired") for b in confirmed) and time.monotonic() < deadline:
            time.sleep(0.05)
        in_source = [b for b, _ in drain(ch, SOURCE)]
        in_target = drain(ch, TARGET)
        conn.close()
    finally:
        broker.stop()
    target_bodies = [b for b, _ in in_target]
    everything = in_source + target_bodies
    facts = "%s: %d in the source, %d in the target, %d confirmed" % (
        plan, len(in_source), len(target_bodies), len(confirmed))
    duplicated = sorted({b for b in everything if everything.count(b) > 1})
    assert not duplicated, "%s; in both queues or twice: %r" % (facts, duplicated)
    lost = sorted(set(confirmed) - set(everything))
    assert not lost, "%s; lost: %r" % (facts, lost)
    for body, props in in_target:
        deaths = (props.headers or {}).get("x-death") or []
        assert len(deaths) == 1 and deaths[0]["count"] == 1 and deaths[0]["queue"] == SOURCE, \
            "%s; x-death of %r: %r" % (facts, body, deaths)
    return len(in_source), len(target_bodies)


def scenario_rejected(binary, work, point, hit):
    data_dir = os.path.join(work, "rejected-%s-%d" % (point, hit))
    bodies = [b"rejected-%02d" % i for i in range(N)]
    broker = Broker(binary, data_dir)
    conn = pika.BlockingConnection(broker.params)
    ch = conn.channel()
    declare(ch)
    publish(ch, bodies)
    conn.close()
    broker.stop()

    broker = Broker(binary, data_dir, kill_at="%s:%d" % (point, hit))
    try:
        if broker.params is None:
            raise pika.exceptions.AMQPConnectionError("killed during start-up")
        conn = pika.BlockingConnection(broker.params)
        ch = conn.channel()
        for _ in range(N):
            method, _props, _body = ch.basic_get(SOURCE, auto_ack=False)
            ch.basic_reject(method.delivery_tag, requeue=False)
        ch.queue_declare(SOURCE, passive=True)  # a round trip: the rejects were handled
        conn.close()
    except (pika.exceptions.AMQPError, AttributeError):
        pass  # killed mid-way (AttributeError: basic_get returned nothing on a dying broker)
    killed = broker.stop()
    counts = check(binary, data_dir, bodies, "rejected %s:%d" % (point, hit))
    shutil.rmtree(data_dir, ignore_errors=True)
    return killed, counts


def scenario_expired(binary, work, point, hit):
    data_dir = os.path.join(work, "expired-%s-%d" % (point, hit))
    bodies = [b"expired-%02d" % i for i in range(N)]
    broker = Broker(binary, data_dir)
    conn = pika.BlockingConnection(broker.params)
    declare(conn.channel())
    conn.close()
    broker.stop()

    broker = Broker(binary, data_dir, kill_at="%s:%d" % (point, hit))
    confirmed = []
    try:
        if broker.params is None:
            raise pika.exceptions.AMQPConnectionError("killed during start-up")
        conn = pika.BlockingConnection(broker.params)
        ch = conn.channel()
        ch.confirm_delivery()
        for body in bodies:
            ch.basic_publish("", SOURCE, body,
                             pika.BasicProperties(delivery_mode=2, expiration="200"))
            confirmed.append(body)  # returns once the broker confirmed it
        deadline = time.monotonic() + 10
        while ch.queue_declare(SOURCE, passive=True).method.message_count and \
                time.monotonic() < deadline:
            time.sleep(0.05)
        conn.close()
    except pika.exceptions.AMQPError:
        pass
    killed = broker.stop()
    counts = check(binary, data_dir, confirmed, "expired %s:%d" % (point, hit))
    shutil.rmtree(data_dir, ignore_errors=True)
    return killed, counts


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("burrowd")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    print("seed", seed, flush=True)
    plans = [("queue.before_dead_letter_write", h) for h in (1, 2, 7)]
    plans += [("writer.after_wal_write", h) for h in sorted(rng.sample(range(1, 30), 5))]
    plans += [("writer.before_wal_write", h) for h in sorted(rng.sample(range(1, 30), 3))]
    work = tempfile.mkdtemp(prefix="burrow-dl-crash-")
    kills = 0
    try:
        for scenario in (scenario_rejected, scenario_expired):
            for point, hit in plans:
                killed, (in_source, in_target) = scenario(args.burrowd, work, point, hit)
                kills += killed
                print("%-9s %s:%-3d killed=%-5s source=%2d target=%2d" % (
                    scenario.__name__[9:], point, hit, killed, in_source, in_target), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    # The plans must really crash burrowd in the middle of dead-lettering most of the time.
    assert kills >= len(plans), "only %d of %d runs were killed" % (kills, 2 * len(plans))
    print("PASS: %d runs, %d killed, no message lost or duplicated" % (2 * len(plans), kills))
    return 0


if __name__ == "__main__":
    sys.exit(main())
