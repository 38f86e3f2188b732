#!/usr/bin/python3
"""Startup to first queue.declare: exec a broker, then time until a client's queue.declare succeeds.

Usage: bench/first_declare.py --port PORT [--timeout S] [--pid-file F] -- BROKER_COMMAND...

Starts BROKER_COMMAND in its own session (so the caller can stop the whole group), then probes
127.0.0.1:PORT every millisecond; once the port accepts, a pika client connects (guest/guest),
opens a channel and declares an exclusive queue, retrying until that succeeds. Prints one JSON
line: {"startup_ms": exec -> declare-ok, "client_ms": the same connect + declare against the
now-running broker (the client's own share of startup_ms), "pid": the broker's pid}.
The broker is left running: the caller stops it (it gets the pid here and in --pid-file).
Exit status 2 on timeout, with {"error": ...} as the JSON line.
"""
import argparse
import json
import os
import socket
import subprocess
import sys
import time

import pika  # imported before the clock starts: its import is not the broker's start


def declare_once(port):
    params = pika.ConnectionParameters(host='127.0.0.1', port=port,
                                       credentials=pika.PlainCredentials('guest', 'guest'),
                                       socket_timeout=5, blocked_connection_timeout=5,
                                       connection_attempts=1)
    conn = pika.BlockingConnection(params)
    try:
        conn.channel().queue_declare(queue='', exclusive=True)
    finally:
        conn.close()


def port_open(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex(('127.0.0.1', port)) == 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--port', type=int, required=True)
    ap.add_argument('--timeout', type=float, default=120.0)
    ap.add_argument('--pid-file')
    ap.add_argument('command', nargs=argparse.REMAINDER)
    args = ap.parse_args()
    cmd = args.command[1:] if args.command[:1] == ['--'] else args.command
    if not cmd:
        ap.error('no broker command')

    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    if args.pid_file:
        with open(args.pid_file, 'w') as f:
            f.write('%d\n' % proc.pid)
    deadline = t0 + args.timeout
    last_error = 'port never opened'
    while True:
        now = time.monotonic()
        if now > deadline or proc.poll() is not None:
            why = 'broker exited with %s' % proc.returncode if proc.returncode is not None \
                else 'timeout after %.0f s' % args.timeout
            print(json.dumps({'error': '%s (%s)' % (why, last_error), 'pid': proc.pid}))
            return 2
        if port_open(args.port):
            try:
                declare_once(args.port)
                break
            except Exception as e:  # refused during boot, connection reset, channel closed...
                last_error = '%s: %s' % (type(e).__name__, e)
                time.sleep(0.005)
                continue
        time.sleep(0.001)
    startup_ms = (time.monotonic() - t0) * 1000
    t1 = time.monotonic()
    declare_once(args.port)
    client_ms = (time.monotonic() - t1) * 1000
    print(json.dumps({'startup_ms': round(startup_ms, 2), 'client_ms': round(client_ms, 2),
                      'pid': proc.pid}))
    return 0


if __name__ == '__main__':
    sys.exit(main())
