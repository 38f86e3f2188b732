#!/usr/bin/env python3
"""Focused reproduction of the first failure the crash test found (README.md, "Fixed"): a
message the client
received just before burrowd is SIGKILLed comes back after the restart with redelivered=false,
because its delivery marker was still queued in the group-commit writer behind large puts.

Usage: repro_unflagged_redelivery.py PATH/TO/burrowd [SECONDS_BETWEEN_DELIVERY_AND_KILL]
Exit status 1 when the message comes back unflagged (the bug), 0 when flagged.
"""

import shutil
import signal
import subprocess
import sys
import tempfile

import pika


def start(binary, data_dir):
    proc = subprocess.Popen([binary, '--port', '0', '--http-port', '0', '--bind', '127.0.0.1', '--data-dir', data_dir,
                             '--durability', 'fsync', '--log-level', 'warn'],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    line = proc.stdout.readline().decode()
    return proc, pika.ConnectionParameters('127.0.0.1', int(line.split()[3].rsplit(':', 1)[1]), heartbeat=0)


def main():
    binary = sys.argv[1]
    wait = float(sys.argv[2]) if len(sys.argv) > 2 else 0.0
    data_dir = tempfile.mkdtemp(prefix='burrow-repro-')
    try:
        proc, params = start(binary, data_dir)
        conn = pika.BlockingConnection(params)
        ch = conn.channel()
        ch.queue_declare('repro.small', durable=True)
        ch.queue_declare('repro.big', durable=True)
        ch.confirm_delivery()
        ch.basic_publish('', 'repro.small', b'hello',
                         pika.BasicProperties(delivery_mode=2, message_id='m1'))
        # A deep writer queue: 40 unconfirmed 1 MB persistent publishes on another channel.
        bulk = conn.channel()
        for _ in range(40):
            bulk.basic_publish('', 'repro.big', b'x' * (1 << 20),
                               pika.BasicProperties(delivery_mode=2))
        got = []
        ch.basic_consume('repro.small', lambda _c, m, _p, b: got.append(m.redelivered),
                         auto_ack=False)
        while not got:
            conn.process_data_events(time_limit=0.001)
        if wait:
            conn.process_data_events(time_limit=wait)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        print('delivered (redelivered=%s), not acked, burrowd SIGKILLed %.3f s later'
              % (got[0], wait))

        proc, params = start(binary, data_dir)
        conn = pika.BlockingConnection(params)
        method, _props, body = conn.channel().basic_get('repro.small', auto_ack=False)
        flagged = method.redelivered if method else None
        print('after the restart: %r redelivered=%s' % (body, flagged))
        conn.close()
        proc.send_signal(signal.SIGTERM)
        proc.wait()
        return 1 if flagged is False else 0
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
