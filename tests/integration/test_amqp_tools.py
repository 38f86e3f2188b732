"""The amqp-tools CLI (amqp-publish, amqp-get, ...) against the broker."""

import os
import re
import shutil
import subprocess
import sys
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import pika  # noqa: E402

import harness  # noqa: E402
from harness import BrokerTestCase  # noqa: E402

TOOL_TIMEOUT = 10
TOOLS = ('amqp-declare-queue', 'amqp-publish', 'amqp-get', 'amqp-consume',
         'amqp-delete-queue')


@unittest.skipUnless(all(shutil.which(t) for t in TOOLS),
                     'amqp-tools not installed')
class AmqpToolsTest(BrokerTestCase):
    """Each tool run as a subprocess with --server/--port or --url."""

    def server_args(self):
        return ['--server', self.broker.host, '--port', str(self.broker.port),
                '--username', self.broker.user,
                '--password', self.broker.password]

    def url(self):
        return 'amqp://%s:%s@%s:%d/%s' % (
            self.broker.user, self.broker.password, self.broker.host,
            self.broker.port, urllib.parse.quote(self.broker.vhost, safe=''))

    def run_tool(self, tool, *args, stdin=b''):
        """Run tool; return (exit code, stdout, stderr) as text."""
        proc = subprocess.run([tool] + self.server_args() + list(args),
                              input=stdin, capture_output=True,
                              timeout=TOOL_TIMEOUT)
        return (proc.returncode, proc.stdout.decode(),
                proc.stderr.decode())

    def check_tool(self, tool, *args, stdin=b''):
        code, out, err = self.run_tool(tool, *args, stdin=stdin)
        self.assertEqual(code, 0, '%s failed: %s' % (tool, err))
        return out

    def test_declare_queue_prints_name(self):
        name = self.queue_name()
        self.assertEqual(self.check_tool('amqp-declare-queue', '-q', name),
                         name + '\n')
        ch = self.channel()
        self.assertEqual(ch.queue_declare(name, passive=True).method.queue,
                         name)

    def test_declare_server_named_queue(self):
        out = self.check_tool('amqp-declare-queue', '-q', '').strip()
        self.track_queue(out)
        self.assertRegex(out, r'^amq\.gen-[A-Za-z0-9_-]{22}$')
        self.channel().queue_declare(out, passive=True)

    def test_declare_with_url(self):
        name = self.queue_name()
        proc = subprocess.run(['amqp-declare-queue', '--url', self.url(),
                               '-q', name, '-d'],
                              capture_output=True, timeout=TOOL_TIMEOUT)
        self.assertEqual((proc.returncode, proc.stdout),
                         (0, name.encode() + b'\n'))

    def test_redeclare_with_other_durability_fails(self):
        name = self.queue_name()
        self.check_tool('amqp-declare-queue', '-q', name, '-d')
        code, out, err = self.run_tool('amqp-declare-queue', '-q', name)
        self.assertEqual(code, 1)
        self.assertIn(
            "server channel error 406, message: PRECONDITION_FAILED - "
            "inequivalent arg 'durable' for queue '%s' in vhost '/': "
            "received 'false' but current is 'true'" % name, err)

    def test_publish_then_get(self):
        name = self.queue_name()
        self.check_tool('amqp-declare-queue', '-q', name)
        self.check_tool('amqp-publish', '-r', name, '-b', 'hello tools')
        self.check_tool('amqp-publish', '-r', name, stdin=b'from stdin\n')
        self.assertEqual(self.check_tool('amqp-get', '-q', name),
                         'hello tools')
        self.assertEqual(self.check_tool('amqp-get', '-q', name),
                         'from stdin\n')
        code, out, _ = self.run_tool('amqp-get', '-q', name)
        self.assertEqual((code, out), (2, ''))

    def test_publish_sets_properties(self):
        ch = self.channel()
        name = self.declare(ch)
        self.check_tool('amqp-publish', '-r', name, '-b', '{}',
                        '-C', 'application/json', '-E', 'utf-8',
                        '-t', 'replies', '-p', '-H', 'x-origin: tools')
        method, props, body = harness.get_message(ch, name, auto_ack=True)
        self.assertEqual(body, b'{}')
        self.assertEqual(
            (props.content_type, props.content_encoding, props.reply_to,
             props.delivery_mode, props.headers),
            ('application/json', 'utf-8', 'replies', 2,
             {'x-origin': 'tools'}))

    def test_publish_line_buffered(self):
        ch = self.channel()
        name = self.declare(ch)
        self.check_tool('amqp-publish', '-r', name, '-l',
                        stdin=b'one\ntwo\nthree\n')
        bodies = [harness.get_message(ch, name, auto_ack=True)[2]
                  for _ in range(3)]
        self.assertEqual(bodies, [b'one\n', b'two\n', b'three\n'])
        self.assertEqual(ch.basic_get(name), (None, None, None))

    def test_get_from_missing_queue_fails_with_404(self):
        name = self.unique('missing')
        code, _, err = self.run_tool('amqp-get', '-q', name)
        self.assertEqual(code, 1)
        self.assertIn("basic.get: server channel error 404, message: "
                      "NOT_FOUND - no queue '%s' in vhost '/'" % name, err)

    def test_publish_to_missing_exchange_reports_404(self):
        name = self.unique('missing')
        code, _, err = self.run_tool('amqp-publish', '-e', name, '-r', 'k',
                                     '-b', 'x')
        self.assertEqual(code, 1)
        self.assertIn("server channel error 404, message: NOT_FOUND - no "
                      "exchange '%s' in vhost '/'" % name, err)

    def test_consume_count_one(self):
        ch = self.channel()
        ch.confirm_delivery()
        name = self.declare(ch)
        for body in (b'first', b'second'):
            ch.basic_publish('', name, body)
        out = self.check_tool('amqp-consume', '-q', name, '-c', '1', 'cat')
        self.assertEqual(out, 'first')
        self.assertEqual(harness.get_message(ch, name)[2], b'second')

    def test_consume_several_with_prefetch(self):
        ch = self.channel()
        ch.confirm_delivery()
        name = self.declare(ch)
        for i in range(3):
            ch.basic_publish('', name, b'm%d' % i)
        out = self.check_tool('amqp-consume', '-q', name, '-c', '3', '-p',
                              '1', '--', 'sh', '-c', 'cat; echo')
        self.assertEqual(out, 'm0\nm1\nm2\n')
        self.assertEqual(ch.basic_get(name), (None, None, None))

    def test_consume_from_exchange_with_server_named_queue(self):
        args = ['amqp-consume'] + self.server_args() + [
            '-e', 'amq.direct', '-r', self.unique('key'), '-c', '1', 'cat']
        proc = subprocess.Popen(args, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        self.addCleanup(_reap, proc)
        line = proc.stderr.readline().decode()
        match = re.match(r'^Server provided queue name: '
                         r'(amq\.gen-[A-Za-z0-9_-]{22})$', line.strip())
        self.assertIsNotNone(match, line)
        ch = self.channel()
        ch.confirm_delivery()
        deadline = time.monotonic() + 5
        while True:
            try:
                ch.basic_publish('amq.direct', args[-4], b'routed',
                                 mandatory=True)
                break
            except pika.exceptions.UnroutableError:
                self.assertLess(time.monotonic(), deadline, 'never bound')
                time.sleep(0.02)
        out, _ = proc.communicate(timeout=TOOL_TIMEOUT)
        self.assertEqual((proc.returncode, out), (0, b'routed'))

    def test_delete_queue_prints_message_count(self):
        ch = self.channel()
        ch.confirm_delivery()
        name = self.declare(ch)
        for _ in range(2):
            ch.basic_publish('', name, b'x')
        self.assertEqual(self.check_tool('amqp-delete-queue', '-q', name),
                         '2\n')


def _reap(proc):
    if proc.poll() is None:
        proc.kill()
    proc.communicate()


if __name__ == '__main__':
    harness.main()
