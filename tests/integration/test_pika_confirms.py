"""Publisher confirms and mandatory returns, via pika and raw frames."""

import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import pika  # noqa: E402
from pika.exceptions import ChannelClosedByBroker, UnroutableError  # noqa

import harness  # noqa: E402
from harness import BrokerTestCase  # noqa: E402

BASIC_ACK = (60, 80)
BASIC_NACK = (60, 120)
BASIC_RETURN = (60, 50)


def confirm_positions(events):
    """Map each confirmed tag to the index of the ack event covering it."""
    confirmed = {}
    for index, event in enumerate(events):
        if event[0] != 'ack':
            continue
        _, tag, multiple = event
        if tag in confirmed:
            raise AssertionError('tag %d confirmed twice' % tag)
        confirmed[tag] = index
        if multiple:
            for lower in range(1, tag):
                confirmed.setdefault(lower, index)
    return confirmed


class PikaConfirmsTest(BrokerTestCase):
    """confirm_delivery on pika's BlockingChannel."""

    def confirm_channel(self):
        ch = self.channel()
        ch.confirm_delivery()
        return ch

    def test_routed_publishes_are_acked(self):
        ch = self.confirm_channel()
        queue = self.declare(ch)
        for i in range(50):
            ch.basic_publish('', queue, b'%d' % i, mandatory=True)
        ok = ch.queue_declare(queue, passive=True).method
        self.assertEqual(ok.message_count, 50)

    def test_unroutable_without_mandatory_is_acked_and_dropped(self):
        ch = self.confirm_channel()
        ch.basic_publish('amq.direct', self.unique('nowhere'), b'lost')
        ch.basic_publish('', self.unique('no-such-queue'), b'lost')

    def test_mandatory_unroutable_is_returned_before_ack(self):
        ch = self.confirm_channel()
        key = self.unique('nowhere')
        props = pika.BasicProperties(message_id='m-1', headers={'h': 1})
        with self.assertRaises(UnroutableError) as ctx:
            ch.basic_publish('amq.direct', key, b'bounce', props,
                             mandatory=True)
        [returned] = ctx.exception.messages
        method = returned.method
        self.assertEqual((method.reply_code, method.reply_text,
                          method.exchange, method.routing_key),
                         (312, 'NO_ROUTE', 'amq.direct', key))
        self.assertEqual(returned.body, b'bounce')
        self.assertEqual(returned.properties.message_id, 'm-1')
        self.assertEqual(returned.properties.headers, {'h': 1})
        queue = self.declare(ch)
        ch.basic_publish('', queue, b'still works', mandatory=True)

    def test_mandatory_to_default_exchange_without_queue(self):
        ch = self.confirm_channel()
        key = self.unique('no-such-queue')
        with self.assertRaises(UnroutableError) as ctx:
            ch.basic_publish('', key, b'x', mandatory=True)
        method = ctx.exception.messages[0].method
        self.assertEqual((method.reply_code, method.reply_text,
                          method.exchange, method.routing_key),
                         (312, 'NO_ROUTE', '', key))

    def test_many_publishes_all_confirmed(self):
        ch = self.confirm_channel()
        queue = self.declare(ch)
        for i in range(5000):
            ch.basic_publish('', queue, b'%d' % i)
        ok = ch.queue_declare(queue, passive=True).method
        self.assertEqual(ok.message_count, 5000)

    def test_publish_to_missing_exchange_closes_channel(self):
        ch = self.confirm_channel()
        name = self.unique('missing')
        with self.assertRaises(ChannelClosedByBroker) as ctx:
            ch.basic_publish(name, 'k', b'x')
        self.assert_channel_error(
            ctx, 404, "NOT_FOUND - no exchange '%s' in vhost '/'" % name)

    def test_tx_select_on_confirm_channel_is_406(self):
        ch = self.confirm_channel()
        with self.assertRaises(ChannelClosedByBroker) as ctx:
            ch.tx_select()
        self.assert_channel_error(
            ctx, 406, 'PRECONDITION_FAILED - cannot switch from confirm '
            'to tx mode')

    def test_confirm_select_on_tx_channel_is_406(self):
        ch = self.channel()
        ch.tx_select()
        with self.assertRaises(ChannelClosedByBroker) as ctx:
            ch.confirm_delivery()
        self.assert_channel_error(
            ctx, 406, 'PRECONDITION_FAILED - cannot switch from tx to '
            'confirm mode')


class ReturnCallbackTest(BrokerTestCase):
    """basic.return without confirms, seen through an on_return callback."""

    def test_on_return_callback_receives_no_route(self):
        conn = self.connect()
        ch = conn.channel()
        returns = []
        ch.add_on_return_callback(
            lambda _ch, method, props, body: returns.append(
                (method.reply_code, method.reply_text, method.exchange,
                 method.routing_key, props.correlation_id, body)))
        key = self.unique('nowhere')
        ch.basic_publish('amq.topic', key, b'back',
                         pika.BasicProperties(correlation_id='c-9'),
                         mandatory=True)
        ch.basic_publish('amq.topic', key, b'silent')
        harness.wait_for(conn, lambda: returns)
        harness.drain(conn, 0.1)
        self.assertEqual(returns, [(312, 'NO_ROUTE', 'amq.topic', key,
                                    'c-9', b'back')])

    def test_routed_mandatory_is_not_returned(self):
        conn = self.connect()
        ch = conn.channel()
        returns = []
        ch.add_on_return_callback(lambda *args: returns.append(args))
        queue = self.declare(ch)
        ch.basic_publish('', queue, b'kept', mandatory=True)
        harness.drain(conn, 0.2)
        self.assertEqual(returns, [])
        self.assertEqual(harness.get_message(ch, queue)[2], b'kept')


class RawConfirmsTest(BrokerTestCase):
    """Frame order and tag accounting of confirms, checked byte by byte."""

    def setUp(self):
        super().setUp()
        self.conn = self.raw()
        self.conn.handshake()
        self.conn.open_channel(1)
        self.conn.send(harness.confirm_select(1))
        self.conn.expect_method(85, 11)

    def publish(self, exchange, key, body, mandatory=False):
        return (harness.basic_publish(1, exchange, key, mandatory)
                + harness.header_frame(1, len(body))
                + harness.body_frame(1, body))

    def read_events(self, count=None, until_confirmed=None):
        """Read confirm/return events: ('ack', tag, multiple) etc.

        Reads count events, or until every tag in until_confirmed is
        acked (a broker may cover several publishes with one multiple ack).
        """
        events = []
        while (len(events) < count if count is not None else
               not until_confirmed <= set(confirm_positions(events))):
            frame = self.conn.read_frame()
            self.assertIsNotNone(frame, 'timed out after %r' % events)
            if frame.method in (BASIC_ACK, BASIC_NACK):
                kind = 'ack' if frame.method == BASIC_ACK else 'nack'
                tag, bits = frame.args().unpack('>QB')
                events.append((kind, tag, bool(bits & 1)))
            elif frame.method == BASIC_RETURN:
                args = frame.args()
                code, text = args.short(), args.shortstr()
                _, body = harness.read_content(self.conn)
                events.append(('return', code, text, args.shortstr(),
                               args.shortstr(), body))
            else:
                self.fail('unexpected frame %r' % frame)
        return events

    def test_return_precedes_ack_of_same_publish(self):
        key = self.unique('nowhere')
        queue = self.queue_name()
        self.conn.send(harness.queue_declare(1, queue))
        self.conn.expect_method(50, 11)
        self.conn.send(self.publish('amq.direct', key, b'r1', True)
                       + self.publish('', queue, b'ok', True)
                       + self.publish('amq.direct', key, b'lost')
                       + self.publish('amq.direct', key, b'r2', True))
        events = self.read_events(until_confirmed={1, 2, 3, 4})
        returns = [e for e in events if e[0] == 'return']
        self.assertEqual(returns, [
            ('return', 312, 'NO_ROUTE', 'amq.direct', key, b'r1'),
            ('return', 312, 'NO_ROUTE', 'amq.direct', key, b'r2')])
        confirmed_at = confirm_positions(events)
        self.assertEqual(sorted(confirmed_at), [1, 2, 3, 4])
        self.assertLess(events.index(returns[0]), confirmed_at[1])
        self.assertLess(events.index(returns[1]), confirmed_at[4])

    def test_ten_thousand_pipelined_publishes_all_confirmed(self):
        total = 10000
        queue = self.queue_name()
        self.conn.send(harness.queue_declare(1, queue))
        self.conn.expect_method(50, 11)
        self.conn.send(b''.join(self.publish('', queue, b'%d' % i)
                                for i in range(total)))
        pending = set(range(1, total + 1))
        while pending:
            frame = self.conn.read_frame()
            self.assertIsNotNone(frame, '%d unconfirmed' % len(pending))
            self.assertEqual(frame.method, BASIC_ACK)
            tag, bits = frame.args().unpack('>QB')
            self.assertIn(tag, pending, 'tag %d confirmed twice' % tag)
            if bits & 1:
                pending = {t for t in pending if t > tag}
            else:
                pending.discard(tag)
        self.conn.send(harness.queue_declare(1, queue, passive=True))
        ok = self.conn.expect_method(50, 11).args()
        self.assertEqual((ok.shortstr(), ok.long()), (queue, total))
        self.assertIsNone(self.conn.read_frame(timeout=0.2))

    def test_confirm_select_nowait_and_twice(self):
        self.conn.send(harness.method_frame(1, 85, 10, b'\x01'))
        self.conn.send(harness.confirm_select(1))
        self.conn.expect_method(85, 11)
        queue = self.queue_name()
        self.conn.send(harness.queue_declare(1, queue))
        self.conn.expect_method(50, 11)
        self.conn.send(self.publish('', queue, b'x'))
        self.assertEqual(self.read_events(1), [('ack', 1, False)])

    def test_confirm_select_ok_payload(self):
        conn = self.raw()
        conn.handshake()
        conn.open_channel(5)
        conn.send(harness.confirm_select(5))
        ok = conn.expect_method(85, 11)
        self.assertEqual((ok.channel, ok.payload),
                         (5, struct.pack('>HH', 85, 11)))


if __name__ == '__main__':
    harness.main()
