"""burrowctl against burrowd's management HTTP API (or RabbitMQ's).

BURROWCTL is the tool's path. By default each class starts a burrowd with
--http-port 0. With AMQP_URL_UNDER_TEST and HTTP_URL_UNDER_TEST (e.g.
http://127.0.0.1:15672) the standard commands run against that broker, which
proves they speak RabbitMQ's API; the Burrow-specific ones (outbox, dlq
replay) are skipped there. ReplayLoopTest needs no broker: it runs burrowctl
against a small fake of the Burrow endpoints' contract and checks the exact
requests (batches, offsets, filters) the tool sends.
"""

import base64
import http.server
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import pika  # noqa: E402
from pika.exceptions import ChannelClosedByBroker  # noqa: E402

import harness  # noqa: E402
from harness import BrokerTestCase, BrokerUnderTest  # noqa: E402

EXTERNAL = bool(os.environ.get('AMQP_URL_UNDER_TEST'))
burrow_only = unittest.skipIf(
    EXTERNAL, 'Burrow-specific endpoint (not served by RabbitMQ)')
# RabbitMQ refreshes queue statistics every 5 s; burrowd answers at once.
STATS_WAIT = 15.0


def burrowctl_path():
    path = os.environ.get('BURROWCTL')
    if not path:
        raise unittest.SkipTest('set BURROWCTL=/path/to/burrowctl')
    return path


def run_burrowctl(url, *args, stdin=None):
    env = dict(os.environ, BURROW_URL=url)
    return subprocess.run([burrowctl_path()] + list(args), env=env,
                          input=stdin, capture_output=True, text=True,
                          timeout=60)


def closed_port():
    sock = socket.socket()
    sock.bind(('127.0.0.1', 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def table_rows(text):
    """The data lines of a burrowctl table, split on runs of spaces."""
    return [line.split() for line in text.splitlines()[1:]]


class BurrowctlTestCase(BrokerTestCase):
    http = True

    @classmethod
    def setUpClass(cls):
        burrowctl_path()
        super().setUpClass()
        if not cls.broker.http_url:
            raise unittest.SkipTest('no management API URL (set '
                                     'HTTP_URL_UNDER_TEST with '
                                     'AMQP_URL_UNDER_TEST)')

    def ctl(self, *args, expect=0, stdin=None, url=None):
        """Runs burrowctl; asserts its exit code; returns the result."""
        result = run_burrowctl(url or self.broker.http_url, *args,
                               stdin=stdin)
        self.assertEqual(result.returncode, expect,
                         'burrowctl %s exited %d\nstdout:\n%s\nstderr:\n%s'
                         % (' '.join(args), result.returncode, result.stdout,
                            result.stderr))
        return result

    def depth(self, name):
        """Messages ready in a queue (passive declare, fresh channel)."""
        conn = self.connect()
        ok = conn.channel().queue_declare(name, passive=True).method
        conn.close()
        return ok.message_count

    def publish(self, ch, queue, bodies, **properties):
        ch.confirm_delivery()
        for body in bodies:
            ch.basic_publish('', queue, body,
                             pika.BasicProperties(**properties))

    def drain_bodies(self, queue):
        conn = self.connect()
        ch = conn.channel()
        bodies = []
        while True:
            method, _, body = ch.basic_get(queue, auto_ack=True)
            if method is None:
                break
            bodies.append(body)
        conn.close()
        return bodies

    def wait_listed(self, kind, predicate):
        """Polls `list KIND --json` until a row satisfies predicate."""
        deadline = time.monotonic() + STATS_WAIT
        while True:
            rows = json.loads(self.ctl('list', kind, '--json').stdout)
            if any(predicate(r) for r in rows):
                return
            if time.monotonic() > deadline:
                self.fail('no matching row in list %s: %r' % (kind, rows))
            time.sleep(0.25)

    def wait_queue_row(self, name, want, vhost=None):
        """Polls `list queues --json` until the row for `name` has `want`."""
        deadline = time.monotonic() + STATS_WAIT
        args = ['list', 'queues', '--json'] + (['--vhost', vhost]
                                               if vhost else [])
        while True:
            rows = json.loads(self.ctl(*args).stdout)
            row = next((r for r in rows if r.get('name') == name), None)
            if row is not None and all(row.get(k) == v
                                       for k, v in want.items()):
                return row
            if time.monotonic() > deadline:
                self.fail('queue %s never showed %r (last row %r)'
                          % (name, want, row))
            time.sleep(0.25)


class StandardCommandsTest(BurrowctlTestCase):
    """The commands on RabbitMQ's own API paths."""

    def test_list_queues_shows_counts(self):
        conn = self.connect()
        ch = conn.channel()
        name = self.declare(ch)
        self.publish(ch, name, [b'a', b'b', b'c'])
        method, _, _ = ch.basic_get(name)  # stays unacknowledged
        self.assertIsNotNone(method)
        self.wait_queue_row(name, {'messages_ready': 2,
                                   'messages_unacknowledged': 1})
        out = self.ctl('list', 'queues').stdout
        self.assertEqual(out.splitlines()[0].split(),
                         ['name', 'messages_ready', 'messages_unacknowledged',
                          'consumers'])
        self.assertIn([name, '2', '1', '0'], table_rows(out))

    def test_list_every_kind(self):
        conn = self.connect()
        ch = conn.channel()
        name = self.declare(ch)
        tag = ch.basic_consume(name, lambda *a: None)
        self.assertIn(['amq.direct', 'direct', 'true', 'false', 'false'],
                      table_rows(self.ctl('list', 'exchanges').stdout))
        self.assertIn(['queue', name, name, '{}'],
                      table_rows(self.ctl('list', 'bindings').stdout))
        self.assertIn('/', [r[0] for r in
                            table_rows(self.ctl('list', 'vhosts').stdout)])
        self.assertIn('guest', [r[0] for r in
                                table_rows(self.ctl('list', 'users').stdout)])
        self.wait_listed('consumers', lambda r: r.get('consumer_tag') == tag)
        self.assertIn(tag, self.ctl('list', 'consumers').stdout)
        for kind in ('connections', 'channels'):
            self.wait_listed(kind, lambda r: r.get('user') == 'guest')
            self.assertIn('guest', self.ctl('list', kind).stdout)

    def test_purge_empties_the_queue(self):
        ch = self.channel()
        name = self.declare(ch)
        self.publish(ch, name, [b'1', b'2', b'3'])
        self.assertEqual(self.depth(name), 3)
        out = self.ctl('purge', 'queue', name).stdout
        self.assertEqual(out, "purged queue '%s'\n" % name)
        self.assertEqual(self.depth(name), 0)

    def test_delete_queue(self):
        ch = self.channel()
        name = self.declare(ch)
        self.publish(ch, name, [b'x'])
        refused = self.ctl('delete', 'queue', name, '--if-empty', expect=1)
        self.assertIn('not empty', refused.stderr)
        self.assertEqual(self.depth(name), 1)
        out = self.ctl('delete', 'queue', name, '--if-unused').stdout
        self.assertEqual(out, "deleted queue '%s'\n" % name)
        with self.assertRaises(ChannelClosedByBroker):
            self.depth(name)

    def test_delete_exchange(self):
        ch = self.channel()
        name = self.exchange_name()
        ch.exchange_declare(name, 'topic')
        self.ctl('delete', 'exchange', name)
        with self.assertRaises(ChannelClosedByBroker):
            self.channel().exchange_declare(name, passive=True)

    def test_refusals_exit_1_with_the_reason(self):
        missing = self.unique('q')
        result = self.ctl('delete', 'queue', missing, expect=1)
        self.assertIn('404', result.stderr)
        result = self.ctl('--password', 'wrong', 'list', 'queues', expect=1)
        self.assertIn('401', result.stderr)
        self.assertIn('Login failed', result.stderr)

    def test_unreachable_exits_3(self):
        url = 'http://127.0.0.1:%d' % closed_port()
        result = self.ctl('list', 'queues', url=url, expect=3)
        self.assertIn('cannot connect', result.stderr)

    def test_usage_errors_exit_2(self):
        for args in (['frob'], ['list'], ['list', 'frobs'],
                     ['purge', 'queue'], ['delete', 'binding', 'x'],
                     ['outbox', 'retry'], ['outbox', 'retry', '1', '--all'],
                     ['outbox', 'retry', 'abc'], ['dlq', 'replay'],
                     ['dlq', 'replay', 'q', '--routing-key', 'k'],
                     ['dlq', 'replay', 'q', '--count', '0'],
                     ['--url', 'https://x', 'list', 'queues']):
            self.ctl(*args, expect=2)
        self.assertEqual(run_burrowctl(self.broker.http_url).returncode, 2)

    def test_help_for_every_command(self):
        self.assertIn('Exit codes', self.ctl('--help').stdout)
        for words in (['list'], ['purge'], ['delete'], ['export'],
                      ['import'], ['outbox', 'parked'], ['outbox', 'retry'],
                      ['outbox', 'discard'], ['dlq', 'replay']):
            out = self.ctl(*(words + ['--help'])).stdout
            self.assertTrue(out.startswith('usage: burrowctl %s'
                                           % ' '.join(words)), out)

    def test_vhost_and_names_are_url_encoded(self):
        ch = self.channel()
        name = self.track_queue('burrow-test.q/with space#%s'
                                % self.unique('q')[-10:])
        ch.queue_declare(name)
        self.publish(ch, name, [b'x'])
        self.wait_queue_row(name, {'messages_ready': 1}, vhost='/')
        self.ctl('--vhost', '/', 'purge', 'queue', name)
        self.assertEqual(self.depth(name), 0)
        self.ctl('delete', 'queue', name)

    def test_export_then_import_recreates_definitions(self):
        ch = self.channel()
        queue = self.queue_name()
        exchange = self.exchange_name()
        ch.queue_declare(queue, durable=True)
        ch.exchange_declare(exchange, 'direct', durable=True)
        ch.queue_bind(queue, exchange, 'rk')
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, 'defs.json')
            out = self.ctl('export', path).stdout
            self.assertTrue(out.startswith('exported definitions to '), out)
            with open(path) as f:
                defs = json.load(f)
            self.assertIn(queue, [q['name'] for q in defs['queues']])
            self.assertIn(exchange, [x['name'] for x in defs['exchanges']])
            self.assertIn((exchange, queue, 'rk'),
                          [(b['source'], b['destination'], b['routing_key'])
                           for b in defs['bindings']])
            self.assertEqual(json.loads(self.ctl('export', '-').stdout)
                             .keys(), defs.keys())

            if EXTERNAL:  # one broker only: delete, then import it back
                ch.queue_delete(queue)
                ch.exchange_delete(exchange)
                target = self.broker
            else:  # a fresh burrowd
                target = BrokerUnderTest(http=True)
                self.addCleanup(target.stop)
            out = self.ctl('import', path, url=target.http_url).stdout
            self.assertEqual(out, 'imported definitions from %s\n' % path)

        conn = pika.BlockingConnection(target.connection_parameters())
        self.addCleanup(harness._close_quietly, conn)
        check = conn.channel()
        check.queue_declare(queue, passive=True)
        check.exchange_declare(exchange, passive=True)
        check.confirm_delivery()
        check.basic_publish(exchange, 'rk', b'routed')
        method, _, body = harness.get_message(check, queue, auto_ack=True)
        self.assertEqual(body, b'routed')

    def test_import_rejects_a_file_that_is_not_json(self):
        with tempfile.NamedTemporaryFile('w', suffix='.json') as f:
            f.write('{not json')
            f.flush()
            self.ctl('import', f.name, expect=2)
        self.ctl('import', '/nonexistent/defs.json', expect=2)


@burrow_only
class OutboxCommandsTest(BurrowctlTestCase):
    """The parked-row commands on a broker whose outbox parked nothing."""

    def test_parked_lists_nothing(self):
        out = self.ctl('outbox', 'parked').stdout
        self.assertEqual(out.split('\n')[0].split(),
                         ['id', 'destination', 'exchange', 'routing_key',
                          'message_id', 'attempts', 'created_at',
                          'last_error'])
        self.assertEqual(table_rows(out), [])
        self.assertEqual(json.loads(self.ctl('outbox', 'parked',
                                             '--json').stdout), [])

    def test_retry_and_discard_all_do_nothing(self):
        self.assertEqual(self.ctl('outbox', 'retry', '--all').stdout,
                         'retried 0 of 0 parked rows\n')
        self.assertEqual(self.ctl('outbox', 'discard', '--all').stdout,
                         'discarded 0 of 0 parked rows\n')

    def test_unknown_id_is_refused(self):
        self.ctl('outbox', 'retry', '12345', expect=1)
        self.ctl('outbox', 'discard', '12345', expect=1)


@burrow_only
class DlqReplayTest(BurrowctlTestCase):
    """work --(reject, x-dead-letter-exchange)--> dlx (fanout) --> dlq."""

    def setUp(self):
        super().setUp()
        self.conn = self.connect()
        ch = self.conn.channel()
        self.work = self.queue_name()
        self.dlq = self.queue_name()
        self.dlx = self.exchange_name()
        ch.exchange_declare(self.dlx, 'fanout')
        ch.queue_declare(self.dlq)
        ch.queue_bind(self.dlq, self.dlx)
        ch.queue_declare(self.work,
                         arguments={'x-dead-letter-exchange': self.dlx})
        self.ch = ch

    def dead_letter(self, bodies):
        """Publishes bodies to work and rejects each (requeue=False)."""
        before = self.depth(self.dlq)
        self.publish(self.ch, self.work, bodies)
        rejector = self.connect().channel()
        rejector.basic_qos(prefetch_count=len(bodies))
        last = []
        rejector.basic_consume(self.work, lambda c, m, p, b: last.append(m))
        harness.wait_for(rejector.connection,
                         lambda: len(last) == len(bodies), timeout=10)
        self.assertEqual(len(last), len(bodies))
        rejector.basic_nack(last[-1].delivery_tag, multiple=True,
                            requeue=False)
        rejector.close()
        self.wait_depth(self.dlq, before + len(bodies))

    def wait_depth(self, queue, want):
        deadline = time.monotonic() + 10
        while self.depth(queue) != want and time.monotonic() < deadline:
            time.sleep(0.02)
        self.assertEqual(self.depth(queue), want)

    def test_replay_puts_the_messages_back(self):
        bodies = [b'm%d' % i for i in range(5)]
        self.dead_letter(bodies)
        out = self.ctl('dlq', 'replay', self.dlq).stdout
        self.assertEqual(out, 'moved 5, skipped 0\n')
        self.assertEqual(self.depth(self.dlq), 0)
        self.assertEqual(self.drain_bodies(self.work), bodies)

    def test_dry_run_changes_nothing(self):
        self.dead_letter([b'a', b'b', b'c'])
        out = self.ctl('dlq', 'replay', self.dlq, '--dry-run').stdout
        lines = out.splitlines()
        self.assertEqual(lines[0].split(),
                         ['exchange', 'routing_key', 'reason', 'queue',
                          'target_exchange', 'target_routing_key'])
        self.assertEqual(lines[-1], 'dry run: would move 3, skipped 0')
        self.assertEqual(len(lines), 5)
        for line in lines[1:4]:
            # exchange "" prints empty; split() drops it.
            self.assertEqual(line.split(),
                             [self.work, 'rejected', self.work, self.work])
        self.assertEqual(self.depth(self.dlq), 3)
        self.assertEqual(self.depth(self.work), 0)
        summary = json.loads(self.ctl('dlq', 'replay', self.dlq, '--dry-run',
                                      '--json').stdout)
        self.assertEqual((summary['moved'], summary['skipped'],
                          summary['dry_run'], len(summary['messages'])),
                         (3, 0, True, 3))
        self.assertEqual(summary['messages'][0]['reason'], 'rejected')
        self.assertEqual(self.depth(self.dlq), 3)

    def test_count_limits_the_replay(self):
        bodies = [b'c%d' % i for i in range(5)]
        self.dead_letter(bodies)
        out = self.ctl('dlq', 'replay', self.dlq, '--count', '2').stdout
        self.assertEqual(out, 'moved 2, skipped 0\n')
        self.assertEqual(self.drain_bodies(self.work), bodies[:2])
        self.assertEqual(self.drain_bodies(self.dlq), bodies[2:])

    def test_to_exchange_and_routing_key_retarget(self):
        side_x = self.exchange_name()
        side = self.queue_name()
        self.ch.exchange_declare(side_x, 'direct')
        self.ch.queue_declare(side)
        self.ch.queue_bind(side, side_x, 'k')
        self.dead_letter([b'r1', b'r2'])
        out = self.ctl('dlq', 'replay', self.dlq, '--to-exchange', side_x,
                       '--routing-key', 'k').stdout
        self.assertEqual(out, 'moved 2, skipped 0\n')
        self.assertEqual(self.drain_bodies(side), [b'r1', b'r2'])
        self.assertEqual(self.depth(self.work), 0)
        self.assertEqual(self.depth(self.dlq), 0)

    def test_filter_reason_leaves_the_others(self):
        self.dead_letter([b'r1', b'r2'])
        # expiration 0: expires at once in a queue without consumers.
        self.publish(self.ch, self.work, [b'e1'], expiration='0')
        self.wait_depth(self.dlq, 3)
        self.dead_letter([b'r3'])
        out = self.ctl('dlq', 'replay', self.dlq, '--filter-reason',
                       'rejected').stdout
        self.assertEqual(out, 'moved 3, skipped 1\n')
        self.assertEqual(self.drain_bodies(self.work), [b'r1', b'r2', b'r3'])
        self.assertEqual(self.drain_bodies(self.dlq), [b'e1'])

    def test_filter_queue(self):
        self.dead_letter([b'x1'])
        self.ctl('dlq', 'replay', self.dlq, '--filter-queue', 'elsewhere',
                 '--dry-run')
        out = self.ctl('dlq', 'replay', self.dlq, '--filter-queue',
                       'elsewhere').stdout
        self.assertEqual(out, 'moved 0, skipped 1\n')
        self.assertEqual(self.depth(self.dlq), 1)

    def test_more_than_one_batch(self):
        bodies = [b'%d' % i for i in range(1100)]
        self.dead_letter(bodies)
        out = self.ctl('dlq', 'replay', self.dlq, '--count', '1050').stdout
        self.assertEqual(out, 'moved 1050, skipped 0\n')
        self.assertEqual(self.drain_bodies(self.work), bodies[:1050])
        self.assertEqual(self.depth(self.dlq), 50)

    def test_missing_queue_is_refused(self):
        self.ctl('dlq', 'replay', self.unique('q'), expect=1)


# -----------------------------------------------------------------------------
# The Burrow endpoints' contract, faked, to pin what burrowctl sends.

class FakeBurrowApi(http.server.ThreadingHTTPServer):
    """Serves /api/burrow/... on an in-memory model; records requests."""

    def __init__(self, queue=None, parked=None):
        super().__init__(('127.0.0.1', 0), FakeHandler)
        self.queue = list(queue or [])   # dicts: reason, queue, body
        self.moved = []                  # (message, target) in order
        self.parked = list(parked or [])
        self.requests = []               # (method, path, json body)
        self.auth = []
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self):
        return 'http://127.0.0.1:%d' % self.server_address[1]

    def close(self):
        self.shutdown()
        self.server_close()

    def replay(self, queue, body):
        count, offset = body['count'], body['offset']
        flt, target = body.get('filter', {}), body.get('target')
        moved, skipped, messages, i = 0, 0, [], offset
        while i < len(self.queue) and moved < count:
            m = self.queue[i]
            if any(m[k] != v for k, v in flt.items()):
                skipped += 1
                i += 1
                continue
            moved += 1
            messages.append({
                'exchange': '', 'routing_key': m['queue'],
                'reason': m['reason'], 'queue': m['queue'],
                'target_exchange': target['exchange'] if target else '',
                'target_routing_key': (target or {}).get('routing_key',
                                                         m['queue'])})
            if body['dry_run']:
                i += 1
            else:
                self.moved.append((self.queue.pop(i), target))
        return {'moved': moved, 'skipped': skipped,
                'remaining': len(self.queue) - i, 'messages': messages}


class FakeHandler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, status, body=None):
        data = b'' if body is None else json.dumps(body).encode()
        self.send_response(status)
        if data:
            self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def handle_any(self):
        srv = self.server
        length = int(self.headers.get('Content-Length') or 0)
        raw = self.rfile.read(length) if length else b''
        body = json.loads(raw) if raw else None
        parts = self.path.split('/')
        with srv.lock:
            srv.requests.append((self.command, self.path, body))
            srv.auth.append(self.headers.get('Authorization'))
            if self.path == '/api/burrow/outbox/parked' and \
                    self.command == 'GET':
                return self.reply(200, srv.parked)
            if self.path.startswith('/api/burrow/outbox/parked/'):
                ids = [r['id'] for r in srv.parked]
                row = int(parts[5])
                if row not in ids:
                    return self.reply(404, {'error': 'Object Not Found',
                                            'reason': 'Not Found'})
                srv.parked = [r for r in srv.parked if r['id'] != row]
                return self.reply(204)
            if len(parts) == 7 and parts[3] == 'queues' and \
                    parts[6] == 'replay' and self.command == 'POST':
                if urllib.parse.unquote(parts[5]) != 'dlq':
                    return self.reply(404, {'error': 'Object Not Found',
                                            'reason': "no queue"})
                return self.reply(200, srv.replay(parts[5], body))
        return self.reply(404, {'error': 'Object Not Found',
                                'reason': 'Not Found'})

    do_GET = do_POST = do_DELETE = handle_any


class ReplayLoopTest(unittest.TestCase):
    """What burrowctl sends to the Burrow endpoints (no broker needed)."""

    def fake(self, reasons=(), parked=()):
        queue = [{'reason': r, 'queue': 'work', 'body': i}
                 for i, r in enumerate(reasons)]
        srv = FakeBurrowApi(queue, list(parked))
        self.addCleanup(srv.close)
        return srv

    def ctl(self, srv, *args, expect=0):
        result = run_burrowctl(srv.url, *args)
        self.assertEqual(result.returncode, expect, result.stderr)
        return result.stdout

    def replay_bodies(self, srv):
        return [(r[1].rsplit('/', 2)[-2], r[2]) for r in srv.requests]

    def test_batches_of_500_until_the_queue_is_empty(self):
        srv = self.fake(['rejected'] * 1203)
        self.assertEqual(self.ctl(srv, 'dlq', 'replay', 'dlq'),
                         'moved 1203, skipped 0\n')
        self.assertEqual([(b['count'], b['offset']) for _, b in
                          self.replay_bodies(srv)],
                         [(500, 0), (500, 0), (500, 0)])
        self.assertEqual(srv.queue, [])
        self.assertEqual(srv.requests[0][2],
                         {'count': 500, 'offset': 0, 'dry_run': False})
        self.assertEqual(srv.auth[0],
                         'Basic ' + base64.b64encode(b'guest:guest').decode())

    def test_count_and_filter_pass_offset_past_skipped(self):
        reasons = ['expired' if i % 100 == 0 else 'rejected'
                   for i in range(1000)]
        srv = self.fake(reasons)
        out = self.ctl(srv, 'dlq', 'replay', 'dlq', '--count', '700',
                       '--filter-reason', 'rejected', '--vhost', 'a/b')
        self.assertEqual(out, 'moved 700, skipped 8\n')
        sent = [(b['count'], b['offset']) for _, b in self.replay_bodies(srv)]
        self.assertEqual(sent, [(500, 0), (200, 6)])
        self.assertTrue(srv.requests[0][1].startswith(
            '/api/burrow/queues/a%2Fb/dlq/replay'))
        self.assertEqual(srv.requests[0][2]['filter'],
                         {'reason': 'rejected'})
        self.assertEqual(len(srv.queue), 300)

    def test_dry_run_advances_offset_by_everything_read(self):
        srv = self.fake(['rejected', 'expired'] * 400)
        out = self.ctl(srv, 'dlq', 'replay', 'dlq', '--dry-run',
                       '--filter-reason', 'expired', '--json')
        summary = json.loads(out)
        self.assertEqual((summary['moved'], summary['skipped'],
                          summary['dry_run']), (400, 400, True))
        sent = [(b['count'], b['offset'], b['dry_run'])
                for _, b in self.replay_bodies(srv)]
        self.assertEqual(sent, [(500, 0, True)])
        self.assertEqual(len(srv.queue), 800)

    def test_dry_run_with_count_in_batches(self):
        srv = self.fake(['rejected'] * 1200)
        out = self.ctl(srv, 'dlq', 'replay', 'dlq', '--dry-run',
                       '--count', '1100')
        self.assertTrue(out.endswith('dry run: would move 1100, '
                                     'skipped 0\n'), out[-200:])
        self.assertEqual(len(out.splitlines()), 1102)
        self.assertEqual([(b['count'], b['offset']) for _, b in
                          self.replay_bodies(srv)],
                         [(500, 0), (500, 500), (100, 1000)])

    def test_target_keys_only_when_given(self):
        srv = self.fake(['rejected'] * 3)
        self.ctl(srv, 'dlq', 'replay', 'dlq', '--to-exchange', 'x')
        self.assertEqual(srv.requests[0][2]['target'], {'exchange': 'x'})
        srv.queue = [{'reason': 'rejected', 'queue': 'work', 'body': 0}]
        self.ctl(srv, 'dlq', 'replay', 'dlq', '--to-exchange', 'x',
                 '--routing-key', 'k')
        self.assertEqual(srv.requests[-1][2]['target'],
                         {'exchange': 'x', 'routing_key': 'k'})

    def test_stops_when_everything_left_is_skipped(self):
        srv = self.fake(['expired'] * 3)
        self.assertEqual(self.ctl(srv, 'dlq', 'replay', 'dlq',
                                  '--filter-reason', 'rejected'),
                         'moved 0, skipped 3\n')
        self.assertEqual(len(srv.requests), 1)

    def test_refusal_exits_1(self):
        srv = self.fake()
        result = run_burrowctl(srv.url, 'dlq', 'replay', 'nope')
        self.assertEqual(result.returncode, 1)
        self.assertIn('no queue', result.stderr)

    def test_outbox_retry_and_discard(self):
        rows = [{'id': i, 'destination': 'rabbit', 'exchange': 'orders',
                 'routing_key': 'order.created', 'message_id': 'm%d' % i,
                 'attempts': 5, 'last_error': 'connection refused',
                 'created_at': 1795453985366} for i in (7, 8, 9)]
        srv = self.fake(parked=rows)
        out = self.ctl(srv, 'outbox', 'parked')
        self.assertEqual(table_rows(out)[0][:6],
                         ['7', 'rabbit', 'orders', 'order.created', 'm7',
                          '5'])
        self.assertIn('2026-11-23 17:13:05  connection refused', out)
        self.assertEqual(self.ctl(srv, 'outbox', 'retry', '8'),
                         'retried parked row 8\n')
        self.assertEqual(srv.requests[-1][:2],
                         ('POST', '/api/burrow/outbox/parked/8/retry'))
        self.ctl(srv, 'outbox', 'retry', '8', expect=1)
        self.assertEqual(self.ctl(srv, 'outbox', 'discard', '--all'),
                         'discarded 2 of 2 parked rows\n')
        self.assertEqual([r[:2] for r in srv.requests[-2:]],
                         [('DELETE', '/api/burrow/outbox/parked/7'),
                          ('DELETE', '/api/burrow/outbox/parked/9')])
        self.assertEqual(srv.parked, [])


if __name__ == '__main__':
    harness.main()
