"""burrowd --clock manual: TTLs fire when the test advances the broker's clock over HTTP,
not after real time passes (issue 7's controllable time)."""

import base64
import datetime
import json
import os
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import pika  # noqa: E402

import harness  # noqa: E402
from harness import BrokerTestCase  # noqa: E402


def api(base, method, path, body=None):
    req = urllib.request.Request(
        base + path, method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={'Authorization': 'Basic ' + base64.b64encode(b'guest:guest').decode(),
                 'Content-Type': 'application/json'})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.load(resp)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)


class ManualClockTest(BrokerTestCase):

    burrowd_args = ('--clock', 'manual')

    def test_a_60s_ttl_dead_letters_after_advancing_61s(self):
        started = time.monotonic()
        status, clock = api(self.broker.http_url, 'GET', '/api/burrow/clock')
        self.assertEqual((status, clock['mode']), (200, 'manual'))
        conn = pika.BlockingConnection(self.broker.connection_parameters())
        ch = conn.channel()
        dlx, dlq, work = self.exchange_name(), self.queue_name(), self.queue_name()
        ch.exchange_declare(dlx, 'fanout')
        ch.queue_declare(dlq)
        ch.queue_bind(dlq, dlx)
        ch.queue_declare(work, arguments={'x-message-ttl': 60000,
                                          'x-dead-letter-exchange': dlx})
        # A publish is asynchronous: with confirms it has reached the queue (and started its
        # 60 s) before the clock moves.
        ch.confirm_delivery()
        ch.basic_publish('', work, b'order-1')
        # 59 s: still there.
        status, after = api(self.broker.http_url, 'POST', '/api/burrow/clock/advance',
                            {'ms': 59000})
        self.assertEqual(status, 200)
        self.assertEqual(after['now_ms'] - clock['now_ms'], 59000)
        self.assertEqual(ch.queue_declare(work, passive=True).method.message_count, 1)
        # 2 s more: expired and dead-lettered before the call returned.
        api(self.broker.http_url, 'POST', '/api/burrow/clock/advance', {'ms': 2000})
        self.assertEqual(ch.queue_declare(work, passive=True).method.message_count, 0)
        method, props, body = ch.basic_get(dlq, auto_ack=True)
        self.assertEqual(body, b'order-1')
        death = props.headers['x-death'][0]
        self.assertEqual((death['reason'], death['queue'], death['count'], death['exchange']),
                         ('expired', work, 1, ''))
        self.assertEqual(death['routing-keys'], [work])
        # x-death's time is the broker's (manual) clock at the moment the TTL fell due: the
        # advance steps through each due time in order, so 60 s after publishing, not 61.
        died = death['time']
        if hasattr(died, 'timestamp'):
            # pika decodes an AMQP timestamp as a naive datetime in UTC; .timestamp() would
            # read it as local time.
            died = int(died.replace(tzinfo=datetime.timezone.utc).timestamp())
        self.assertEqual(died, (clock['now_ms'] + 60000) // 1000)
        conn.close()
        self.assertLess(time.monotonic() - started, 5)

    def test_advance_needs_a_duration(self):
        status, body = api(self.broker.http_url, 'POST', '/api/burrow/clock/advance', {})
        self.assertEqual((status, body['reason']), (400, '[{key_missing,ms}]'))
        status, body = api(self.broker.http_url, 'POST', '/api/burrow/clock/advance',
                           {'ms': -5})
        self.assertEqual(status, 400)


class SystemClockTest(BrokerTestCase):

    def test_the_system_clock_cannot_be_advanced(self):
        status, clock = api(self.broker.http_url, 'GET', '/api/burrow/clock')
        self.assertEqual(clock['mode'], 'system')
        self.assertLess(abs(clock['now_ms'] - time.time() * 1000), 60000)
        status, body = api(self.broker.http_url, 'POST', '/api/burrow/clock/advance',
                           {'ms': 1000})
        self.assertEqual(status, 400)
        self.assertIn('--clock manual', body['reason'])


if __name__ == '__main__':
    harness.main()
