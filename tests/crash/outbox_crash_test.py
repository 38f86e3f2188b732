#!/usr/bin/env python3
"""Outbox crash test (issue 5): examples/outbox_orders is killed (SIGKILL, by a kill point
armed with BURROW_KILL_AT=name:N) between a commit and its relay, inside the relay and inside
the inbox, then run again to completion; afterwards `outbox_orders --verify` must show:

  local, inventory consumer (inbox):  every committed order reserved exactly once, nothing
      reserved twice or never, nothing of a rolled-back order saved or published, no row
      pending or parked;
  local, no consumer:  exactly one message per committed order in the durable queue (no
      duplicate, none missing) - the relay's "enqueue + delete the row" is one write;
  upstream (a second burrowd over AMQP): every committed order arrived at least once, every
      copy of one order with the same message_id, nothing of a rolled-back order.

Usage: outbox_crash_test.py OUTBOX_ORDERS BURROWD [--iterations N]
Kill points (storage/kill_point.h): writer.after_wal_write / writer.mid_completions (between
commit and relay), relay.before_local_write / relay.after_local_write (inside the local relay),
inbox.after_commit (state committed, ack not sent), relay.after_upstream_confirm.
"""
import argparse
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, "/usr/lib/python3/dist-packages")
import pika  # noqa: E402

ORDERS = 300


def run(cmd, env=None, timeout=120):
    proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=timeout, text=True)
    return proc


def last_json(text):
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            return json.loads(line)
    raise AssertionError("no JSON line in output:\n" + text)


def crash_then_finish(binary, data_dir, extra, point, hit):
    env = dict(os.environ)
    env["BURROW_KILL_AT"] = f"{point}:{hit}"
    env.setdefault("ASAN_OPTIONS", "detect_leaks=0")
    cmd = [binary, "--data-dir", data_dir, "--orders", str(ORDERS), "--durability", "os"] + extra
    first = run(cmd, env=env)
    killed = first.returncode == -signal.SIGKILL
    if not killed and first.returncode != 0:
        raise AssertionError(f"{point}:{hit}: first run failed ({first.returncode}):\n"
                             + first.stderr[-3000:])
    env.pop("BURROW_KILL_AT")
    second = run(cmd, env=env)
    if second.returncode != 0:
        raise AssertionError(f"{point}:{hit}: rerun failed ({second.returncode}):\n"
                             + second.stderr[-3000:])
    return killed


def verify(binary, data_dir, env=None):
    proc = run([binary, "--data-dir", data_dir, "--verify"], env=env)
    if proc.returncode != 0:
        raise AssertionError("verify failed:\n" + proc.stderr[-3000:])
    return last_json(proc.stdout)


def expect(cond, what, facts):
    if not cond:
        raise AssertionError(f"{what}: {facts}")


def scenario_inbox(binary, work, iterations, rng):
    points = ["writer.after_wal_write", "writer.mid_completions", "relay.before_local_write",
              "relay.after_local_write", "inbox.after_commit"]
    kills = 0
    for i in range(iterations):
        point = points[i % len(points)]
        hit = rng.randint(1, 250)
        data = os.path.join(work, f"inbox-{i}")
        kills += crash_then_finish(binary, data, [], point, hit)
        v = verify(binary, data)
        facts = f"{point}:{hit} -> {v}"
        expect(v["orders"] == ORDERS, "every order committed by the rerun", facts)
        expect(v["reserved_once"] == ORDERS, "every order reserved exactly once", facts)
        expect(v["reserved_more"] == 0 and v["reserved_never"] == 0, "no double/missing", facts)
        expect(v["rolled_back_seen"] == 0 and v["rolled_back_saved"] == 0,
               "nothing of a rolled-back transaction", facts)
        expect(v["queued"] == 0 and v["pending"] == 0 and v["parked"] == 0, "all relayed", facts)
        shutil.rmtree(data, ignore_errors=True)
    return kills


def scenario_relay_only(binary, work, iterations, rng):
    points = ["writer.after_wal_write", "relay.before_local_write", "relay.after_local_write"]
    kills = 0
    for i in range(iterations):
        point = points[i % len(points)]
        hit = rng.randint(1, 250)
        data = os.path.join(work, f"relay-{i}")
        kills += crash_then_finish(binary, data, ["--no-consumer"], point, hit)
        v = verify(binary, data)
        facts = f"{point}:{hit} -> {v}"
        expect(v["orders"] == ORDERS, "every order committed", facts)
        expect(v["queued"] == ORDERS and v["queued_distinct"] == ORDERS,
               "exactly one message per committed order", facts)
        expect(v["queued_duplicates"] == 0 and v["queued_missing"] == 0, "no dup/missing", facts)
        expect(v["rolled_back_seen"] == 0, "nothing of a rolled-back transaction", facts)
        shutil.rmtree(data, ignore_errors=True)
    return kills


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def scenario_upstream(binary, burrowd, work, iterations, rng):
    port = free_port()
    env = dict(os.environ)
    env.setdefault("ASAN_OPTIONS", "detect_leaks=0")
    upstream = subprocess.Popen([burrowd, "--in-memory", "--http-port", "0", "--port", str(port), "--bind",
                                 "127.0.0.1", "--log-level", "warn"],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                env=env)
    try:
        line = upstream.stdout.readline()
        expect("listening" in line, "upstream burrowd started", line)
        url = f"amqp://guest:guest@127.0.0.1:{port}/%2F"
        conn = pika.BlockingConnection(pika.URLParameters(url))
        ch = conn.channel()
        ch.exchange_declare("orders", "topic", durable=True)
        kills = 0
        for i in range(iterations):
            q = f"relayed-{i}"
            ch.queue_declare(q, durable=True)
            ch.queue_bind(q, "orders", "order.*")
            point = "relay.after_upstream_confirm"
            hit = rng.randint(1, 20)
            data = os.path.join(work, f"upstream-{i}")
            kills += crash_then_finish(binary, data, ["--upstream", url], point, hit)
            ids = {}
            while True:
                method, props, body = ch.basic_get(q, auto_ack=True)
                if method is None:
                    break
                order = body.decode()
                expect(not order.startswith("r"), "nothing of a rolled-back transaction", order)
                ids.setdefault(order, set()).add(props.message_id)
            facts = f"{point}:{hit}: {len(ids)} orders"
            expect(len(ids) == ORDERS, "every committed order arrived upstream", facts)
            expect(all(len(v) == 1 for v in ids.values()),
                   "every copy of an order has the same message_id", facts)
            ch.queue_delete(q)
            shutil.rmtree(data, ignore_errors=True)
        conn.close()
        return kills
    finally:
        upstream.send_signal(signal.SIGTERM)
        upstream.wait(timeout=30)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("outbox_orders")
    parser.add_argument("burrowd")
    parser.add_argument("--iterations", type=int,
                        default=int(os.environ.get("BURROW_OUTBOX_CRASH_ITERATIONS", "5")))
    parser.add_argument("--seed", type=int, default=int(time.time()))
    args = parser.parse_args()
    rng = random.Random(args.seed)
    print(f"seed {args.seed}", flush=True)
    work = tempfile.mkdtemp(prefix="burrow-outbox-crash-")
    try:
        k1 = scenario_inbox(args.outbox_orders, work, args.iterations, rng)
        print(f"inbox: {args.iterations} runs, {k1} killed: PASS", flush=True)
        k2 = scenario_relay_only(args.outbox_orders, work, args.iterations, rng)
        print(f"relay only: {args.iterations} runs, {k2} killed: PASS", flush=True)
        k3 = scenario_upstream(args.outbox_orders, args.burrowd, work,
                               max(1, args.iterations // 2), rng)
        print(f"upstream: {max(1, args.iterations // 2)} runs, {k3} killed: PASS", flush=True)
        if k1 + k2 + k3 == 0:
            raise AssertionError("no run was killed: the kill points were never reached")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
