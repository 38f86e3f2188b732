"""Acknowledgements: ack, nack, reject, recover, requeue on close."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from pika.exceptions import (ChannelClosedByBroker,  # noqa: E402
                             ConnectionClosedByBroker)

import harness  # noqa: E402
from harness import BrokerTestCase  # noqa: E402


def unknown_tag(tag):
    return (406, 'PRECONDITION_FAILED - unknown delivery tag %d' % tag)


class AckTestCase(BrokerTestCase):
    """Helpers shared by the acknowledgement tests."""

    def filled_queue(self, *bodies):
        """A fresh queue holding bodies, published with confirms."""
        ch = self.channel()
        ch.confirm_delivery()
        name = self.declare(ch)
        for body in bodies:
            ch.basic_publish('', name, body)
        ch.close()
        return name

    def get(self, ch, queue):
        """basic.get without ack: (delivery_tag, redelivered, body)."""
        method, _, body = ch.basic_get(queue)
        self.assertIsNotNone(method, 'queue %s unexpectedly empty' % queue)
        return method.delivery_tag, method.redelivered, body

    def get_all(self, ch, queue):
        """Drain a queue with auto-ack: [(redelivered, body), ...]."""
        got = []
        while True:
            method, _, body = ch.basic_get(queue, auto_ack=True)
            if method is None:
                return got
            got.append((method.redelivered, body))

    def consume_n(self, ch, queue, count, timeout=5):
        """Consume count messages without acking them."""
        got = []
        for method, _, body in ch.consume(queue, inactivity_timeout=timeout):
            self.assertIsNotNone(method, 'timed out after %r' % (got,))
            got.append((method.delivery_tag, method.redelivered, body))
            if len(got) == count:
                break
        return got

    def sync(self, ch, queue):
        """A synchronous round trip that surfaces an async channel error."""
        return ch.queue_declare(queue, passive=True)

    def assert_ack_error(self, conn, ch, queue, code_text):
        with self.assertRaises(ChannelClosedByBroker) as ctx:
            self.sync(ch, queue)
        self.assert_channel_error(ctx, *code_text)
        self.assertTrue(ch.is_closed)
        self.assertTrue(conn.is_open)
        other = conn.channel()
        self.sync(other, queue)
        other.basic_publish('', queue, b'after-error')
        method, _, body = other.basic_get(queue, auto_ack=True)
        self.assertEqual(body, b'after-error')


class AckTest(AckTestCase):
    """basic.ack in its single and multiple forms."""

    def test_ack_removes_only_acked_message(self):
        queue = self.filled_queue(b'a', b'b')
        ch = self.channel()
        tag_a, _, _ = self.get(ch, queue)
        self.get(ch, queue)
        ch.basic_ack(tag_a)
        ch.close()
        self.assertEqual(self.get_all(self.channel(), queue), [(True, b'b')])

    def test_ack_multiple(self):
        queue = self.filled_queue(*[b'm%d' % i for i in range(5)])
        ch = self.channel()
        tags = [self.get(ch, queue)[0] for _ in range(5)]
        self.assertEqual(tags, [1, 2, 3, 4, 5])
        ch.basic_ack(3, multiple=True)
        ch.close()
        self.assertEqual(self.get_all(self.channel(), queue),
                         [(True, b'm3'), (True, b'm4')])

    def test_ack_zero_multiple_acks_everything(self):
        queue = self.filled_queue(b'a', b'b', b'c')
        ch = self.channel()
        for _ in range(3):
            self.get(ch, queue)
        ch.basic_ack(0, multiple=True)
        self.sync(ch, queue)
        ch.close()
        self.assertEqual(self.get_all(self.channel(), queue), [])

    def test_consumer_manual_ack(self):
        queue = self.filled_queue(b'x', b'y')
        conn = self.connect()
        ch = conn.channel()
        got = self.consume_n(ch, queue, 2)
        self.assertEqual(got, [(1, False, b'x'), (2, False, b'y')])
        ch.basic_ack(1)
        ch.basic_ack(2)
        ch.cancel()
        ch.close()
        self.assertEqual(self.get_all(conn.channel(), queue), [])

    def test_unknown_delivery_tag_closes_channel_only(self):
        queue = self.filled_queue()
        conn = self.connect()
        ch = conn.channel()
        ch.basic_ack(42)
        self.assert_ack_error(conn, ch, queue, unknown_tag(42))

    def test_double_ack_is_406(self):
        queue = self.filled_queue(b'once')
        conn = self.connect()
        ch = conn.channel()
        tag, _, _ = self.get(ch, queue)
        ch.basic_ack(tag)
        ch.basic_ack(tag)
        self.assert_ack_error(conn, ch, queue, unknown_tag(tag))

    def test_double_ack_multiple_is_406(self):
        queue = self.filled_queue(b'a', b'b')
        conn = self.connect()
        ch = conn.channel()
        self.get(ch, queue)
        self.get(ch, queue)
        ch.basic_ack(2, multiple=True)
        ch.basic_ack(2, multiple=True)
        self.assert_ack_error(conn, ch, queue, unknown_tag(2))

    def test_ack_of_auto_acked_delivery_is_406(self):
        queue = self.filled_queue(b'auto')
        conn = self.connect()
        ch = conn.channel()
        method, _, _ = ch.basic_get(queue, auto_ack=True)
        ch.basic_ack(method.delivery_tag)
        self.assert_ack_error(conn, ch, queue,
                              unknown_tag(method.delivery_tag))

    def test_ack_zero_without_multiple_is_406(self):
        queue = self.filled_queue()
        conn = self.connect()
        ch = conn.channel()
        ch.basic_ack(0)
        self.assert_ack_error(conn, ch, queue, unknown_tag(0))


class NackRejectTest(AckTestCase):
    """basic.nack and basic.reject with and without requeue."""

    def test_nack_requeue_preserves_order_and_sets_redelivered(self):
        queue = self.filled_queue(b'a', b'b', b'c', b'd')
        ch = self.channel()
        for _ in range(3):
            self.get(ch, queue)
        ch.basic_nack(3, multiple=True, requeue=True)
        self.assertEqual(self.get_all(ch, queue),
                         [(True, b'a'), (True, b'b'), (True, b'c'),
                          (False, b'd')])

    def test_nack_single_requeue_goes_back_in_place(self):
        queue = self.filled_queue(b'a', b'b', b'c')
        ch = self.channel()
        self.get(ch, queue)
        tag_b, _, _ = self.get(ch, queue)
        ch.basic_nack(tag_b, requeue=True)
        self.assertEqual(self.get(ch, queue)[1:], (True, b'b'))
        self.assertEqual(self.get(ch, queue)[1:], (False, b'c'))

    def test_nack_requeue_redelivers_to_consumer(self):
        queue = self.filled_queue(b'only')
        conn = self.connect()
        ch = conn.channel()
        first = self.consume_n(ch, queue, 1)
        ch.basic_nack(first[0][0], requeue=True)
        again = self.consume_n(ch, queue, 1)
        self.assertEqual(first, [(1, False, b'only')])
        self.assertEqual(again, [(2, True, b'only')])
        ch.basic_ack(2)
        ch.cancel()

    def test_nack_without_requeue_drops(self):
        queue = self.filled_queue(b'a', b'b')
        ch = self.channel()
        self.get(ch, queue)
        self.get(ch, queue)
        ch.basic_nack(2, multiple=True, requeue=False)
        self.assertEqual(ch.basic_get(queue), (None, None, None))
        self.assertEqual(
            self.sync(ch, queue).method.message_count, 0)

    def test_reject_requeue_and_drop(self):
        queue = self.filled_queue(b'keep', b'drop')
        ch = self.channel()
        keep, _, _ = self.get(ch, queue)
        drop, _, _ = self.get(ch, queue)
        ch.basic_reject(drop, requeue=False)
        ch.basic_reject(keep, requeue=True)
        self.assertEqual(self.get_all(ch, queue), [(True, b'keep')])

    def test_nack_unknown_tag_is_406(self):
        queue = self.filled_queue()
        conn = self.connect()
        ch = conn.channel()
        ch.basic_nack(7)
        self.assert_ack_error(conn, ch, queue, unknown_tag(7))

    def test_reject_unknown_tag_is_406(self):
        queue = self.filled_queue()
        conn = self.connect()
        ch = conn.channel()
        ch.basic_reject(9)
        self.assert_ack_error(conn, ch, queue, unknown_tag(9))


class RequeueOnCloseTest(AckTestCase):
    """Unacked deliveries go back to the queue when their owner goes away."""

    def assert_redelivered_elsewhere(self, queue, bodies):
        conn = self.connect()
        ch = conn.channel()
        got = self.consume_n(ch, queue, len(bodies))
        self.assertEqual([(r, b) for _, r, b in got],
                         [(True, body) for body in bodies])
        ch.basic_ack(got[-1][0], multiple=True)
        ch.cancel()

    def test_unacked_requeued_when_channel_closes(self):
        bodies = [b'one', b'two', b'three']
        queue = self.filled_queue(*bodies)
        conn = self.connect()
        ch = conn.channel()
        self.consume_n(ch, queue, 3)
        ch.close()
        self.assertTrue(conn.is_open)
        self.assert_redelivered_elsewhere(queue, bodies)

    def test_unacked_requeued_when_connection_closes(self):
        bodies = [b'one', b'two']
        queue = self.filled_queue(*bodies)
        conn = self.connect()
        ch = conn.channel()
        self.consume_n(ch, queue, 2)
        conn.close()
        self.assert_redelivered_elsewhere(queue, bodies)

    def test_unacked_get_requeued_when_channel_closes(self):
        queue = self.filled_queue(b'a', b'b', b'c')
        ch = self.channel()
        self.get(ch, queue)
        tag_b, _, _ = self.get(ch, queue)
        ch.basic_ack(tag_b)
        ch.close()
        self.assertEqual(self.get_all(self.channel(), queue),
                         [(True, b'a'), (False, b'c')])

    def test_requeued_on_channel_error(self):
        queue = self.filled_queue(b'held')
        conn = self.connect()
        ch = conn.channel()
        self.get(ch, queue)
        ch.basic_ack(99)
        with self.assertRaises(ChannelClosedByBroker):
            self.sync(ch, queue)
        self.assertEqual(self.get_all(conn.channel(), queue),
                         [(True, b'held')])


class RecoverTest(AckTestCase):
    """basic.recover."""

    def test_recover_requeue_redelivers_unacked(self):
        queue = self.filled_queue(b'a', b'b', b'c')
        ch = self.channel()
        self.get(ch, queue)
        tag_b, _, _ = self.get(ch, queue)
        ch.basic_ack(tag_b)
        ch.basic_recover(requeue=True)
        self.assertEqual(self.get_all(ch, queue),
                         [(True, b'a'), (False, b'c')])

    def test_recover_requeue_redelivers_to_consumer(self):
        queue = self.filled_queue(b'a', b'b')
        conn = self.connect()
        ch = conn.channel()
        first = self.consume_n(ch, queue, 2)
        ch.basic_recover(requeue=True)
        again = self.consume_n(ch, queue, 2)
        self.assertEqual([(r, b) for _, r, b in first],
                         [(False, b'a'), (False, b'b')])
        self.assertEqual(again, [(3, True, b'a'), (4, True, b'b')])
        ch.basic_ack(4, multiple=True)
        ch.cancel()

    def test_recover_without_requeue_is_540(self):
        conn = self.connect()
        ch = conn.channel()
        with self.assertRaises(ConnectionClosedByBroker) as ctx:
            ch.basic_recover(requeue=False)
        self.assert_channel_error(ctx, 540, 'NOT_IMPLEMENTED - requeue=false')
        self.assertFalse(conn.is_open)
        self.assert_broker_healthy()


if __name__ == '__main__':
    harness.main()
