"""basic.qos prefetch limits, per consumer and per channel, via pika."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from pika.exceptions import ConnectionClosedByBroker  # noqa: E402

import harness  # noqa: E402
from harness import BrokerTestCase  # noqa: E402

SETTLE = 0.2


class PrefetchTest(BrokerTestCase):
    """Counts unacked deliveries under various basic.qos settings."""

    def setUp(self):
        super().setUp()
        self.conn = self.connect()
        self.ch = self.conn.channel()

    def filled_queue(self, count):
        ch = self.conn.channel()
        ch.confirm_delivery()
        name = self.declare(ch)
        for i in range(count):
            ch.basic_publish('', name, b'%d' % i)
        ch.close()
        return name

    def consume(self, queue, ch=None):
        """Start a no-ack=False consumer; return its list of deliveries."""
        got = []
        (ch or self.ch).basic_consume(
            queue, lambda _ch, method, _props, body: got.append(
                (method.delivery_tag, body)))
        return got

    def settled_count(self, deliveries, expected):
        """Wait for expected deliveries, then a little longer for extras."""
        def count():
            return sum(len(d) for d in deliveries)

        harness.wait_for(self.conn, lambda: count() >= expected)
        harness.drain(self.conn, SETTLE)
        return count()

    def test_prefetch_limits_unacked_deliveries(self):
        queue = self.filled_queue(10)
        self.ch.basic_qos(prefetch_count=3)
        got = self.consume(queue)
        self.assertEqual(self.settled_count([got], 3), 3)
        self.assertEqual([body for _, body in got], [b'0', b'1', b'2'])
        self.ch.basic_ack(got[0][0])
        self.assertEqual(self.settled_count([got], 4), 4)
        self.ch.basic_ack(got[3][0], multiple=True)
        self.assertEqual(self.settled_count([got], 7), 7)
        self.assertEqual([body for _, body in got],
                         [b'%d' % i for i in range(7)])

    def test_prefetch_one_delivers_one_at_a_time(self):
        queue = self.filled_queue(3)
        self.ch.basic_qos(prefetch_count=1)
        got = self.consume(queue)
        for expected in (1, 2, 3):
            self.assertEqual(self.settled_count([got], expected), expected)
            self.ch.basic_ack(got[-1][0])

    def test_per_consumer_limit_applies_to_each_consumer(self):
        first, second = self.filled_queue(10), self.filled_queue(10)
        self.ch.basic_qos(prefetch_count=3)
        got = [self.consume(first), self.consume(second)]
        self.assertEqual(self.settled_count(got, 6), 6)
        self.assertEqual([len(g) for g in got], [3, 3])

    def test_global_limit_is_shared_by_consumers_on_channel(self):
        first, second = self.filled_queue(10), self.filled_queue(10)
        self.ch.basic_qos(prefetch_count=3, global_qos=True)
        got = [self.consume(first), self.consume(second)]
        self.assertEqual(self.settled_count(got, 3), 3)
        self.assertEqual(len(got[0]), 3)
        tag = got[0][0][0]
        self.ch.basic_ack(tag)
        self.assertEqual(self.settled_count(got, 4), 4)

    def test_global_and_per_consumer_limits_combine(self):
        first, second = self.filled_queue(10), self.filled_queue(10)
        self.ch.basic_qos(prefetch_count=5, global_qos=True)
        self.ch.basic_qos(prefetch_count=2)
        got = [self.consume(first), self.consume(second)]
        self.assertEqual(self.settled_count(got, 4), 4)
        self.assertEqual([len(g) for g in got], [2, 2])

    def test_global_limit_does_not_span_channels(self):
        first, second = self.filled_queue(10), self.filled_queue(10)
        other = self.conn.channel()
        for ch in (self.ch, other):
            ch.basic_qos(prefetch_count=2, global_qos=True)
        got = [self.consume(first), self.consume(second, other)]
        self.assertEqual(self.settled_count(got, 4), 4)
        self.assertEqual([len(g) for g in got], [2, 2])

    def test_prefetch_zero_is_unlimited(self):
        queue = self.filled_queue(50)
        self.ch.basic_qos(prefetch_count=0)
        got = self.consume(queue)
        self.assertEqual(self.settled_count([got], 50), 50)

    def test_default_is_unlimited(self):
        queue = self.filled_queue(40)
        got = self.consume(queue)
        self.assertEqual(self.settled_count([got], 40), 40)

    def test_per_consumer_limit_is_fixed_when_consumer_starts(self):
        first, second = self.filled_queue(10), self.filled_queue(10)
        self.ch.basic_qos(prefetch_count=2)
        got = [self.consume(first)]
        self.assertEqual(self.settled_count(got, 2), 2)
        self.ch.basic_qos(prefetch_count=5)
        got.append(self.consume(second))
        self.assertEqual(self.settled_count(got, 7), 7)
        self.assertEqual([len(g) for g in got], [2, 5])

    def test_raising_global_prefetch_releases_more(self):
        queue = self.filled_queue(10)
        self.ch.basic_qos(prefetch_count=2, global_qos=True)
        got = self.consume(queue)
        self.assertEqual(self.settled_count([got], 2), 2)
        self.ch.basic_qos(prefetch_count=5, global_qos=True)
        self.assertEqual(self.settled_count([got], 5), 5)

    def test_qos_does_not_limit_basic_get(self):
        queue = self.filled_queue(3)
        self.ch.basic_qos(prefetch_count=1)
        tags = [self.ch.basic_get(queue)[0].delivery_tag for _ in range(3)]
        self.assertEqual(tags, [1, 2, 3])

    def test_no_ack_consumer_ignores_prefetch(self):
        queue = self.filled_queue(20)
        self.ch.basic_qos(prefetch_count=2)
        got = []
        self.ch.basic_consume(queue, lambda *args: got.append(args[3]),
                              auto_ack=True)
        self.assertEqual(self.settled_count([got], 20), 20)

    def test_prefetch_size_is_not_implemented(self):
        with self.assertRaises(ConnectionClosedByBroker) as ctx:
            self.ch.basic_qos(prefetch_size=1000)
        self.assert_channel_error(ctx, 540,
                                  'NOT_IMPLEMENTED - prefetch_size!=0 (1000)')
        self.assert_broker_healthy()


if __name__ == '__main__':
    harness.main()
