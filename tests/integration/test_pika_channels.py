"""Channels, concurrency, exclusivity, auto-delete and consumer tags."""

import os
import re
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import pika  # noqa: E402
from pika.exceptions import ChannelClosedByBroker  # noqa: E402

import harness  # noqa: E402
from harness import BrokerTestCase  # noqa: E402

SERVER_CTAG = re.compile(r'^amq\.ctag-[A-Za-z0-9_-]{22}$')


def locked(queue):
    return (405, "RESOURCE_LOCKED - cannot obtain exclusive access to locked "
                 "queue '%s' in vhost '/'. It could be originally declared on "
                 "another connection or the exclusive property value does not "
                 "match that of the original declaration." % queue)


def in_exclusive_use(queue):
    return (403, "ACCESS_REFUSED - queue '%s' in vhost '/' in exclusive use"
            % queue)


class ChannelsTestCase(BrokerTestCase):
    """Shared helpers."""

    def queue_exists(self, conn, name):
        ch = conn.channel()
        try:
            ch.queue_declare(name, passive=True)
        except ChannelClosedByBroker as exc:
            self.assertEqual(exc.reply_code, 404)
            return False
        ch.close()
        return True

    def wait_queue_gone(self, conn, name, timeout=5.0):
        deadline = time.monotonic() + timeout
        while self.queue_exists(conn, name):
            if time.monotonic() > deadline:
                self.fail('queue %s still exists' % name)
            time.sleep(0.02)


class ConcurrencyTest(ChannelsTestCase):
    """Many channels and connections working at once."""

    def test_channels_on_one_connection_are_independent(self):
        conn = self.connect()
        channels = [conn.channel() for _ in range(5)]
        self.assertEqual(len({ch.channel_number for ch in channels}), 5)
        queues = [self.declare(ch) for ch in channels]
        got = {}
        for index, (ch, queue) in enumerate(zip(channels, queues)):
            got[index] = []
            ch.basic_consume(queue, self.recorder(got[index]), auto_ack=True)
        for round_ in range(20):
            for index, ch in enumerate(channels):
                ch.basic_publish('', queues[index], b'%d-%d' % (index, round_))
        harness.wait_for(conn, lambda: sum(map(len, got.values())) >= 100)
        for index, ch in enumerate(channels):
            self.assertEqual(got[index],
                             [(ch.channel_number, b'%d-%d' % (index, r))
                              for r in range(20)])

    def recorder(self, sink):
        return lambda ch, method, props, body: sink.append(
            (ch.channel_number, body))

    def test_closing_one_channel_leaves_others_working(self):
        conn = self.connect()
        keep, drop = conn.channel(), conn.channel()
        queue = self.declare(keep)
        drop.close()
        keep.basic_publish('', queue, b'still here')
        self.assertEqual(harness.get_message(keep, queue)[2], b'still here')
        again = conn.channel()
        self.assertEqual(again.queue_declare(queue, passive=True)
                         .method.message_count, 0)

    def test_concurrent_connections_publish_and_consume(self):
        setup = self.channel()
        queue = self.declare(setup)
        producers, per_producer = 4, 300
        expected = {b'%d:%d' % (p, i) for p in range(producers)
                    for i in range(per_producer)}
        received, errors = [], []
        lock = threading.Lock()

        def produce(index):
            conn = pika.BlockingConnection(self.broker.connection_parameters())
            try:
                ch = conn.channel()
                ch.confirm_delivery()
                for i in range(per_producer):
                    ch.basic_publish('', queue, b'%d:%d' % (index, i))
            finally:
                conn.close()

        def consume():
            conn = pika.BlockingConnection(self.broker.connection_parameters())
            try:
                ch = conn.channel()
                ch.basic_qos(prefetch_count=50)
                for method, _, body in ch.consume(queue,
                                                  inactivity_timeout=1):
                    with lock:
                        if method is None and len(received) >= len(expected):
                            break
                        if method is not None:
                            received.append(body)
                    if method is not None:
                        ch.basic_ack(method.delivery_tag)
                ch.cancel()
            finally:
                conn.close()

        def guarded(target, *args):
            try:
                target(*args)
            except Exception as exc:  # reported by the main thread
                errors.append(exc)

        threads = [threading.Thread(target=guarded, args=(consume,))
                   for _ in range(2)]
        threads += [threading.Thread(target=guarded, args=(produce, p))
                    for p in range(producers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(20)
            self.assertFalse(thread.is_alive(), 'worker hung')
        self.assertEqual(errors, [])
        self.assertEqual(len(received), len(expected))
        self.assertEqual(set(received), expected)


class ExclusiveQueueTest(ChannelsTestCase):
    """Exclusive queues belong to the connection that declared them."""

    def setUp(self):
        super().setUp()
        self.owner = self.connect()
        self.queue = self.declare(self.owner.channel(), exclusive=True)
        self.other = self.connect()

    def test_other_connection_gets_405(self):
        queue = self.queue
        operations = {
            'declare': lambda ch: ch.queue_declare(queue, exclusive=True),
            'declare shared': lambda ch: ch.queue_declare(queue),
            'passive': lambda ch: ch.queue_declare(queue, passive=True),
            'consume': lambda ch: ch.basic_consume(queue, lambda *a: None),
            'get': lambda ch: ch.basic_get(queue),
            'purge': lambda ch: ch.queue_purge(queue),
            'delete': lambda ch: ch.queue_delete(queue),
            'bind': lambda ch: ch.queue_bind(queue, 'amq.direct', 'k'),
        }
        for label, operation in operations.items():
            with self.subTest(operation=label):
                with self.assertRaises(ChannelClosedByBroker) as ctx:
                    operation(self.other.channel())
                self.assert_channel_error(ctx, *locked(queue))
                self.assertTrue(self.other.is_open)

    def test_full_405_text_for_short_name(self):
        name = self.track_queue('bt-' + self.unique('q')[-10:])
        self.owner.channel().queue_declare(name, exclusive=True)
        with self.assertRaises(ChannelClosedByBroker) as ctx:
            self.other.channel().queue_declare(name, passive=True)
        self.assertEqual((ctx.exception.reply_code,
                          ctx.exception.reply_text), locked(name))
        self.assertLess(len(ctx.exception.reply_text), 255)

    def test_other_connection_may_publish_to_it(self):
        ch = self.other.channel()
        ch.confirm_delivery()
        ch.basic_publish('', self.queue, b'hello owner', mandatory=True)
        got = harness.get_message(self.owner.channel(), self.queue)
        self.assertEqual(got[2], b'hello owner')

    def test_owner_redeclaring_without_exclusive_is_405(self):
        with self.assertRaises(ChannelClosedByBroker) as ctx:
            self.owner.channel().queue_declare(self.queue)
        self.assert_channel_error(ctx, *locked(self.queue))
        self.owner.channel().queue_declare(self.queue, exclusive=True)

    def test_deleted_when_owner_connection_closes(self):
        self.assertTrue(self.queue_exists(self.owner, self.queue))
        self.owner.close()
        self.wait_queue_gone(self.other, self.queue)

    def test_survives_owner_channel_close(self):
        self.owner.channel().close()
        ch = self.owner.channel()
        ch.queue_declare(self.queue, passive=True)


class ExclusiveConsumerTest(ChannelsTestCase):
    """basic.consume with exclusive=True."""

    def test_second_consumer_on_exclusively_consumed_queue_is_403(self):
        conn = self.connect()
        queue = self.declare(conn.channel())
        conn.channel().basic_consume(queue, lambda *a: None, exclusive=True)
        with self.assertRaises(ChannelClosedByBroker) as ctx:
            conn.channel().basic_consume(queue, lambda *a: None)
        self.assert_channel_error(ctx, *in_exclusive_use(queue))

    def test_exclusive_consume_on_consumed_queue_is_403(self):
        conn = self.connect()
        queue = self.declare(conn.channel())
        conn.channel().basic_consume(queue, lambda *a: None)
        with self.assertRaises(ChannelClosedByBroker) as ctx:
            conn.channel().basic_consume(queue, lambda *a: None,
                                         exclusive=True)
        self.assert_channel_error(ctx, *in_exclusive_use(queue))


class AutoDeleteTest(ChannelsTestCase):
    """Auto-delete queues go away with their last consumer."""

    def test_deleted_after_last_consumer_cancels(self):
        conn = self.connect()
        ch = conn.channel()
        queue = self.declare(ch, auto_delete=True)
        first = ch.basic_consume(queue, lambda *a: None)
        second = ch.basic_consume(queue, lambda *a: None)
        ch.basic_cancel(first)
        self.assertEqual(ch.queue_declare(queue, passive=True)
                         .method.consumer_count, 1)
        ch.basic_cancel(second)
        self.wait_queue_gone(conn, queue)

    def test_deleted_when_consumer_channel_closes(self):
        conn = self.connect()
        ch = conn.channel()
        queue = self.declare(ch, auto_delete=True)
        ch.basic_consume(queue, lambda *a: None)
        ch.close()
        self.wait_queue_gone(conn, queue)

    def test_kept_while_never_consumed(self):
        conn = self.connect()
        queue = self.declare(conn.channel(), auto_delete=True)
        conn.close()
        other = self.connect()
        self.assertTrue(self.queue_exists(other, queue))


class ConsumerTagTest(ChannelsTestCase):
    """Consumer tags (raw frames: pika always picks its own tags)."""

    def setUp(self):
        super().setUp()
        self.conn = self.raw()
        self.conn.handshake()
        self.conn.open_channel(1)
        self.conn.send(harness.queue_declare(1, '', exclusive=True))
        self.queue = self.conn.expect_method(50, 11).args().shortstr()

    def consume(self, tag='', channel=1):
        self.conn.send(harness.basic_consume(channel, self.queue, tag))
        return self.conn.expect_method(60, 21).args().shortstr()

    def test_server_generated_tags(self):
        tags = [self.consume() for _ in range(3)]
        for tag in tags:
            self.assertRegex(tag, SERVER_CTAG)
        self.assertEqual(len(set(tags)), 3)

    def test_client_tag_is_echoed_and_may_repeat_on_other_channel(self):
        self.assertEqual(self.consume('my-tag'), 'my-tag')
        self.conn.open_channel(2)
        self.assertEqual(self.consume('my-tag', channel=2), 'my-tag')

    def test_reusing_tag_on_same_channel_is_530(self):
        self.consume('dup')
        self.conn.send(harness.basic_consume(1, self.queue, 'dup'))
        self.assertEqual(self.conn.expect_close(), (
            530, "NOT_ALLOWED - attempt to reuse consumer tag 'dup'", 60, 20))
        self.conn.send(harness.connection_close_ok())
        self.assertTrue(self.conn.wait_closed())
        self.assert_broker_healthy()

    def test_cancel_of_unknown_tag_is_ok(self):
        self.conn.send(harness.method_frame(1, 60, 30,
                                            harness.shortstr('nope') + b'\0'))
        ok = self.conn.expect_method(60, 31)
        self.assertEqual(ok.args().shortstr(), 'nope')


class MissingExchangeTest(ChannelsTestCase):
    """Publishing to a missing exchange closes the channel, not the link."""

    def test_publish_to_missing_exchange_is_404_on_channel(self):
        conn = self.connect()
        ch = conn.channel()
        name = self.unique('missing')
        ch.basic_publish(name, 'key', b'x')
        with self.assertRaises(ChannelClosedByBroker) as ctx:
            ch.queue_declare('', exclusive=True)
        self.assert_channel_error(
            ctx, 404, "NOT_FOUND - no exchange '%s' in vhost '/'" % name)
        self.assertTrue(conn.is_open)
        other = conn.channel()
        queue = self.declare(other)
        other.basic_publish('', queue, b'fine')
        self.assertEqual(harness.get_message(other, queue)[2], b'fine')

    def test_channel_close_reply_names_basic_publish(self):
        conn = self.raw()
        conn.handshake()
        conn.open_channel(1)
        name = self.unique('missing')
        conn.send(harness.basic_publish(1, name, 'k')
                  + harness.header_frame(1, 1) + harness.body_frame(1, b'x'))
        close = conn.read_frame()
        self.assertEqual((close.channel, close.method), (1, (20, 40)))
        self.assertEqual(harness.decode_close(close), (
            404, "NOT_FOUND - no exchange '%s' in vhost '/'" % name, 60, 40))
        conn.send(harness.method_frame(1, 20, 41))
        conn.open_channel(1)


class ShutdownTest(unittest.TestCase):
    """A stopping broker tells its clients, as RabbitMQ does (rabbit_reader)."""

    @unittest.skipIf(os.environ.get('AMQP_URL_UNDER_TEST'),
                             'stops the broker it starts')
    def test_sigterm_closes_connections_with_320(self):
        broker = harness.BrokerUnderTest()
        try:
            conn = pika.BlockingConnection(broker.connection_parameters())
            conn.channel().queue_declare('', exclusive=True)
            stopper = threading.Thread(target=broker.stop)
            stopper.start()
            with self.assertRaises(pika.exceptions.ConnectionClosedByBroker) as caught:
                conn.process_data_events(time_limit=10)
                conn.channel()  # if the close arrived after the wait, it is seen here
            stopper.join()
            self.assertEqual(caught.exception.reply_code, 320)
            self.assertEqual(caught.exception.reply_text,
                             "CONNECTION_FORCED - broker forced connection closure "
                             "with reason 'shutdown'")
        finally:
            if broker.proc is not None and broker.proc.poll() is None:
                broker.stop()


if __name__ == '__main__':
    harness.main()
