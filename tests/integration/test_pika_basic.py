"""Declarations, publish/get/consume, properties and routing via pika."""

import datetime
import os
import re
import struct
import sys
import time
from decimal import Decimal

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import pika  # noqa: E402
from pika.exceptions import (ChannelClosedByBroker,  # noqa: E402
                             ConnectionClosedByBroker)

import harness  # noqa: E402
from harness import BrokerTestCase, get_message  # noqa: E402

SERVER_NAMED = re.compile(r'^amq\.gen-[A-Za-z0-9_-]{22}$')
DEFAULT_EXCHANGE_403 = (403, 'ACCESS_REFUSED - operation not permitted on '
                             'the default exchange')


def no_queue(name):
    return (404, "NOT_FOUND - no queue '%s' in vhost '/'" % name)


class QueueDeclareTest(BrokerTestCase):
    """queue.declare in its named, server-named and passive forms."""

    def test_named_queue_declare_ok(self):
        ch = self.channel()
        name = self.queue_name()
        ok = ch.queue_declare(name).method
        self.assertEqual((ok.queue, ok.message_count, ok.consumer_count),
                         (name, 0, 0))

    def test_redeclare_reports_message_count(self):
        ch = self.channel()
        ch.confirm_delivery()
        name = self.declare(ch)
        for body in (b'a', b'b'):
            ch.basic_publish('', name, body)
        ok = ch.queue_declare(name).method
        self.assertEqual((ok.message_count, ok.consumer_count), (2, 0))

    def test_server_named_queue(self):
        ch = self.channel()
        ok = ch.queue_declare('', exclusive=True).method
        self.assertRegex(ok.queue, SERVER_NAMED)
        other = ch.queue_declare('', exclusive=True).method.queue
        self.assertNotEqual(ok.queue, other)

    def test_passive_declare_of_existing_queue(self):
        ch = self.channel()
        ch.confirm_delivery()
        name = self.declare(ch)
        ch.basic_publish('', name, b'x')
        ok = ch.queue_declare(name, passive=True).method
        self.assertEqual((ok.queue, ok.message_count), (name, 1))

    def test_passive_declare_of_missing_queue_is_404(self):
        conn = self.connect()
        ch = conn.channel()
        name = self.unique('missing')
        with self.assertRaises(ChannelClosedByBroker) as ctx:
            ch.queue_declare(name, passive=True)
        self.assert_channel_error(ctx, *no_queue(name))
        self.assertTrue(conn.is_open)
        conn.channel().queue_declare('', exclusive=True)

    def test_long_reply_text_is_truncated_to_255_bytes(self):
        ch = self.channel()
        name = 'burrow-test.missing.' + 'x' * 220
        with self.assertRaises(ChannelClosedByBroker) as ctx:
            ch.queue_declare(name, passive=True)
        text = ctx.exception.reply_text
        self.assertEqual(len(text), 255)
        self.assertEqual(text, ("NOT_FOUND - no queue '%s" % name)[:252]
                         + '...')

    def test_redeclare_with_other_durability_is_406(self):
        ch = self.channel()
        name = self.declare(ch)
        with self.assertRaises(ChannelClosedByBroker) as ctx:
            ch.queue_declare(name, durable=True)
        self.assert_channel_error(
            ctx, 406, "PRECONDITION_FAILED - inequivalent arg 'durable' for "
            "queue '%s' in vhost '/': received 'true' but current is "
            "'false'" % name)

    def test_amq_prefix_queue_is_403(self):
        ch = self.channel()
        with self.assertRaises(ChannelClosedByBroker) as ctx:
            ch.queue_declare('amq.burrow-test')
        self.assert_channel_error(
            ctx, 403, "ACCESS_REFUSED - queue name 'amq.burrow-test' "
            "contains reserved prefix 'amq.*'")

    def test_passive_amq_prefix_queue_is_404(self):
        ch = self.channel()
        with self.assertRaises(ChannelClosedByBroker) as ctx:
            ch.queue_declare('amq.burrow-test', passive=True)
        self.assert_channel_error(ctx, *no_queue('amq.burrow-test'))


class QueueMaintenanceTest(BrokerTestCase):
    """queue.purge and queue.delete with their preconditions."""

    def fill(self, ch, count):
        ch.confirm_delivery()
        name = self.declare(ch)
        for i in range(count):
            ch.basic_publish('', name, b'm%d' % i)
        return name

    def test_purge_returns_count(self):
        ch = self.channel()
        name = self.fill(ch, 3)
        self.assertEqual(ch.queue_purge(name).method.message_count, 3)
        self.assertEqual(ch.queue_purge(name).method.message_count, 0)
        self.assertEqual(ch.basic_get(name), (None, None, None))

    def test_delete_returns_message_count(self):
        ch = self.channel()
        name = self.fill(ch, 4)
        self.assertEqual(ch.queue_delete(name).method.message_count, 4)
        with self.assertRaises(ChannelClosedByBroker) as ctx:
            ch.queue_declare(name, passive=True)
        self.assert_channel_error(ctx, *no_queue(name))

    def test_delete_missing_queue_is_ok(self):
        ch = self.channel()
        ok = ch.queue_delete(self.unique('missing')).method
        self.assertEqual(ok.message_count, 0)

    def test_delete_if_empty_on_non_empty_queue_is_406(self):
        ch = self.channel()
        name = self.fill(ch, 1)
        with self.assertRaises(ChannelClosedByBroker) as ctx:
            ch.queue_delete(name, if_empty=True)
        self.assert_channel_error(
            ctx, 406, "PRECONDITION_FAILED - queue '%s' in vhost '/' "
            "not empty" % name)

    def test_delete_if_unused_with_consumer_is_406(self):
        ch = self.channel()
        name = self.declare(ch)
        ch.basic_consume(name, lambda *args: None)
        with self.assertRaises(ChannelClosedByBroker) as ctx:
            ch.queue_delete(name, if_unused=True)
        self.assert_channel_error(
            ctx, 406, "PRECONDITION_FAILED - queue '%s' in vhost '/' "
            "in use" % name)

    def test_delete_if_empty_and_if_unused_when_satisfied(self):
        ch = self.channel()
        name = self.declare(ch)
        ok = ch.queue_delete(name, if_unused=True, if_empty=True).method
        self.assertEqual(ok.message_count, 0)


class PublishGetTest(BrokerTestCase):
    """basic.publish with basic.get and basic.consume."""

    def test_get_ok_fields_and_get_empty(self):
        ch = self.channel()
        name = self.declare(ch)
        for body in (b'first', b'second', b'third'):
            ch.basic_publish('', name, body)
        method, _, body = ch.basic_get(name, auto_ack=True)
        self.assertEqual(body, b'first')
        self.assertEqual((method.message_count, method.redelivered,
                          method.exchange, method.routing_key),
                         (2, False, '', name))
        self.assertEqual(ch.basic_get(name, auto_ack=True)[0].message_count,
                         1)
        self.assertEqual(ch.basic_get(name, auto_ack=True)[0].message_count,
                         0)
        self.assertEqual(ch.basic_get(name, auto_ack=True),
                         (None, None, None))

    def test_get_empty_on_fresh_queue(self):
        ch = self.channel()
        name = self.declare(ch)
        self.assertEqual(ch.basic_get(name), (None, None, None))

    def test_delivery_tags_count_up_per_channel(self):
        ch = self.channel()
        name = self.declare(ch)
        for i in range(3):
            ch.basic_publish('', name, b'%d' % i)
        tags = [ch.basic_get(name)[0].delivery_tag for _ in range(3)]
        self.assertEqual(tags, [1, 2, 3])

    def test_consume_with_manual_ack(self):
        conn = self.connect()
        ch = conn.channel()
        name = self.declare(ch)
        for i in range(3):
            ch.basic_publish('', name, b'msg-%d' % i)
        got = []
        for method, _, body in ch.consume(name, inactivity_timeout=5):
            self.assertIsNotNone(method, 'timed out waiting for delivery')
            got.append((method.delivery_tag, method.redelivered, body))
            ch.basic_ack(method.delivery_tag)
            if len(got) == 3:
                break
        ch.cancel()
        self.assertEqual(got, [(1, False, b'msg-0'), (2, False, b'msg-1'),
                               (3, False, b'msg-2')])
        ok = ch.queue_declare(name, passive=True).method
        self.assertEqual(ok.message_count, 0)

    def test_body_sizes(self):
        ch = self.channel()
        name = self.declare(ch)
        sizes = [0, 1, 131064, 131065, 200 * 1024, 1024 * 1024]
        for size in sizes:
            with self.subTest(size=size):
                body = bytes((i * 7 + size) % 251 for i in range(size))
                ch.basic_publish('', name, body)
                method, _, got = ch.basic_get(name, auto_ack=True)
                self.assertIsNotNone(method)
                self.assertEqual(len(got), size)
                self.assertEqual(got, body)


class PropertiesTest(BrokerTestCase):
    """All basic properties and header field types survive a round trip."""

    def test_all_fourteen_properties_round_trip(self):
        ch = self.channel()
        name = self.declare(ch)
        stamp = datetime.datetime(2022, 9, 20, 12, 34, 56)
        headers = {
            'str': 'hello', 'empty': '', 'utf8': 'h\u00e9llo \u2603',
            'int': 42, 'negative': -7, 'big': 2 ** 40, 'max64': 2 ** 63 - 1,
            'true': True, 'false': False,
            'bytes': b'\x00\x01\xfe\xff', 'void': None,
            'decimal': Decimal('3.14'), 'int_decimal': Decimal(5),
            'timestamp': stamp,
            'table': {'nested': {'deeper': [1, 'two', {'three': 3}]},
                      'flag': True},
            'array': [1, 'a', True, None, [2, 3], {'k': 'v'}, b'\x07'],
            'empty_table': {}, 'empty_array': [],
        }
        props = pika.BasicProperties(
            content_type='application/json', content_encoding='gzip',
            headers=headers, delivery_mode=2, priority=7,
            correlation_id='corr-1', reply_to='reply.queue',
            expiration='60000', message_id='msg-1',
            timestamp=1663677296, type='burrow.test', user_id='guest',
            app_id='burrow-tests', cluster_id='cluster-a')
        ch.basic_publish('', name, b'{}', props)
        method, got, body = ch.basic_get(name, auto_ack=True)
        self.assertEqual(body, b'{}')
        for field in ('content_type', 'content_encoding', 'delivery_mode',
                      'priority', 'correlation_id', 'reply_to', 'expiration',
                      'message_id', 'timestamp', 'type', 'user_id', 'app_id',
                      'cluster_id'):
            self.assertEqual(getattr(got, field), getattr(props, field),
                             field)
        self.assertEqual(got.headers, headers)

    def test_no_properties_round_trip_as_none(self):
        ch = self.channel()
        name = self.declare(ch)
        ch.basic_publish('', name, b'bare')
        _, got, _ = ch.basic_get(name, auto_ack=True)
        self.assertEqual(
            [got.content_type, got.headers, got.delivery_mode,
             got.priority, got.timestamp, got.user_id, got.cluster_id],
            [None] * 7)

    def test_wrong_user_id_is_406(self):
        ch = self.channel()
        name = self.declare(ch)
        ch.confirm_delivery()
        with self.assertRaises(ChannelClosedByBroker) as ctx:
            ch.basic_publish('', name, b'x',
                             pika.BasicProperties(user_id='mallory'))
        self.assert_channel_error(
            ctx, 406, "PRECONDITION_FAILED - user_id property set to "
            "'mallory' but authenticated user was 'guest'")

    def test_every_field_type_is_passed_through_byte_exact(self):
        ch = self.channel()
        name = self.declare(ch)
        table = (
            harness.shortstr('t') + b't\x01'
            + harness.shortstr('b') + b'b' + struct.pack('>b', -5)
            + harness.shortstr('B') + b'B' + struct.pack('>B', 250)
            + harness.shortstr('s') + b's' + struct.pack('>h', -300)
            + harness.shortstr('u') + b'u' + struct.pack('>H', 60000)
            + harness.shortstr('I') + b'I' + struct.pack('>i', -70000)
            + harness.shortstr('i') + b'i' + struct.pack('>I', 4000000000)
            + harness.shortstr('l') + b'l' + struct.pack('>q', -2 ** 40)
            + harness.shortstr('f') + b'f' + struct.pack('>f', 1.5)
            + harness.shortstr('d') + b'd' + struct.pack('>d', -2.25)
            + harness.shortstr('D') + b'D' + struct.pack('>Bi', 2, 314)
            + harness.shortstr('S') + b'S' + harness.longstr('str')
            + harness.shortstr('x') + b'x' + harness.longstr(b'\x00\xff')
            + harness.shortstr('T') + b'T' + struct.pack('>Q', 1663677296)
            + harness.shortstr('V') + b'V'
            + harness.shortstr('A') + b'A' + struct.pack('>I', 11)
            + b'I' + struct.pack('>i', 1) + b'S' + harness.longstr('a')
            + harness.shortstr('F') + b'F' + struct.pack('>I', 3)
            + harness.shortstr('k') + b'V')
        props = (harness.shortstr('text/plain')
                 + struct.pack('>I', len(table)) + table + b'\x01')
        flags = 0x8000 | 0x2000 | 0x1000
        raw = self.raw()
        raw.handshake()
        raw.open_channel(1)
        publish = (harness.basic_publish(1, '', name)
                   + harness.header_frame(1, 5, flags=flags, props=props)
                   + harness.body_frame(1, b'hello'))
        raw.send(publish + publish + harness.basic_get(1, name))
        get_ok = raw.expect_method(60, 71)
        header, body = harness.read_content(raw)
        self.assertEqual(body, b'hello')
        self.assertEqual(header, struct.pack('>HHQH', 60, 0, 5, flags)
                         + props)
        self.assertEqual(get_ok.args().unpack('>QB'), (1, 0))
        _, got, _ = get_message(ch, name, auto_ack=True)
        self.assertEqual(got.headers['S'], 'str')
        self.assertEqual(got.headers['D'], Decimal('3.14'))
        self.assertEqual(got.headers['A'], [1, 'a'])
        self.assertEqual(got.headers['F'], {'k': None})


class RoutingTest(BrokerTestCase):
    """direct, fanout, topic and headers exchanges and bindings."""

    def setUp(self):
        super().setUp()
        self.ch = self.channel()
        self.ch.confirm_delivery()

    def exchange(self, kind, **kwargs):
        name = self.exchange_name()
        self.ch.exchange_declare(name, kind, **kwargs)
        return name

    def bound_queues(self, exchange, bindings):
        """Declare one queue per (routing_key, arguments) binding."""
        queues = []
        for key, args in bindings:
            queue = self.declare(self.ch)
            self.ch.queue_bind(queue, exchange, key, arguments=args)
            queues.append(queue)
        return queues

    def receivers(self, exchange, key, queues, headers=None):
        """Publish one message; return the indexes of queues that got it."""
        body = ('%s|%s' % (key, time.monotonic())).encode()
        self.ch.basic_publish(exchange, key, body,
                              pika.BasicProperties(headers=headers))
        got = []
        for index, queue in enumerate(queues):
            method, _, received = self.ch.basic_get(queue, auto_ack=True)
            if method is not None:
                self.assertEqual(received, body)
                self.assertEqual((method.exchange, method.routing_key),
                                 (exchange, key))
                got.append(index)
        return got

    def test_default_exchange_routes_by_queue_name(self):
        queue = self.declare(self.ch)
        self.assertEqual(self.receivers('', queue, [queue]), [0])
        self.assertEqual(self.receivers('', queue + '.no', [queue]), [])

    def test_direct_exchange(self):
        ex = self.exchange('direct')
        queues = self.bound_queues(ex, [('red', None), ('green', None),
                                        ('red', None)])
        self.assertEqual(self.receivers(ex, 'red', queues), [0, 2])
        self.assertEqual(self.receivers(ex, 'green', queues), [1])
        self.assertEqual(self.receivers(ex, 'blue', queues), [])
        self.assertEqual(self.receivers(ex, 'RED', queues), [])

    def test_fanout_exchange_ignores_routing_key(self):
        ex = self.exchange('fanout')
        queues = self.bound_queues(ex, [('a', None), ('b', None)])
        self.assertEqual(self.receivers(ex, 'anything', queues), [0, 1])
        self.assertEqual(self.receivers(ex, '', queues), [0, 1])

    def test_topic_exchange_star_and_hash(self):
        ex = self.exchange('topic')
        patterns = ['a.*.c', 'a.#', '#', '*', '#.c', 'a.*', 'a.b.c',
                    '*.*.#']
        queues = self.bound_queues(ex, [(p, None) for p in patterns])
        cases = {
            'a.b.c': ['a.*.c', 'a.#', '#', '#.c', 'a.b.c', '*.*.#'],
            'a.c': ['a.#', '#', '#.c', 'a.*', '*.*.#'],
            'a': ['a.#', '#', '*'],
            'a.b.b.c': ['a.#', '#', '#.c', '*.*.#'],
            'c': ['#', '*', '#.c'],
            'x.y': ['#', '*.*.#'],
            '': ['#'],
            'a..c': ['a.*.c', 'a.#', '#', '#.c', '*.*.#'],
        }
        for key, expected in cases.items():
            with self.subTest(key=key):
                got = self.receivers(ex, key, queues)
                self.assertEqual([patterns[i] for i in got], expected)

    def test_headers_exchange_all_and_any(self):
        ex = self.exchange('headers')
        match = {'format': 'pdf', 'type': 'report'}
        queues = self.bound_queues(ex, [
            ('', dict(match, **{'x-match': 'all'})),
            ('', dict(match, **{'x-match': 'any'})),
            ('', dict(match)),
            ('', {'x-match': 'all', 'present': None}),
        ])
        cases = [
            ({'format': 'pdf', 'type': 'report'}, [0, 1, 2]),
            ({'format': 'pdf', 'type': 'report', 'extra': 1}, [0, 1, 2]),
            ({'format': 'pdf'}, [1]),
            ({'format': 'zip', 'type': 'log'}, []),
            ({'present': 'anything'}, [3]),
            ({'present': None}, [3]),
            ({}, []),
            (None, []),
        ]
        for headers, expected in cases:
            with self.subTest(headers=headers):
                self.assertEqual(
                    self.receivers(ex, 'ignored', queues, headers), expected)

    def test_headers_exchange_compares_integers_by_value(self):
        ex = self.exchange('headers')
        queues = self.bound_queues(ex, [('', {'x-match': 'all', 'n': 1})])
        self.assertEqual(self.receivers(ex, '', queues, {'n': 1}), [0])
        self.assertEqual(self.receivers(ex, '', queues, {'n': 2 ** 40}), [])
        self.assertEqual(self.receivers(ex, '', queues, {'n': '1'}), [])

    def test_bind_and_unbind(self):
        ex = self.exchange('direct')
        queue = self.declare(self.ch)
        self.assertEqual(self.receivers(ex, 'k', [queue]), [])
        self.ch.queue_bind(queue, ex, 'k')
        self.ch.queue_bind(queue, ex, 'k')
        self.assertEqual(self.receivers(ex, 'k', [queue]), [0])
        self.assertIsNone(self.ch.basic_get(queue)[0])
        self.ch.queue_unbind(queue, ex, 'k')
        self.assertEqual(self.receivers(ex, 'k', [queue]), [])

    def test_unbind_of_missing_binding_is_ok(self):
        ex = self.exchange('direct')
        queue = self.declare(self.ch)
        self.ch.queue_unbind(queue, ex, 'never-bound')
        self.ch.queue_unbind(self.unique('missing'), ex, 'k')

    def test_deleted_exchange_stops_routing(self):
        ex = self.exchange('fanout')
        queues = self.bound_queues(ex, [('', None)])
        self.ch.exchange_delete(ex)
        with self.assertRaises(ChannelClosedByBroker) as ctx:
            self.ch.basic_publish(ex, '', b'x')
        self.assert_channel_error(
            ctx, 404, "NOT_FOUND - no exchange '%s' in vhost '/'" % ex)
        ch = self.channel()
        ok = ch.queue_declare(queues[0], passive=True).method
        self.assertEqual(ok.message_count, 0)


class ExchangeErrorsTest(BrokerTestCase):
    """Exchange declaration errors and reserved names."""

    def test_redeclare_with_other_type_is_406(self):
        conn = self.connect()
        ch = conn.channel()
        name = self.exchange_name()
        ch.exchange_declare(name, 'direct')
        ch.exchange_declare(name, 'direct')
        with self.assertRaises(ChannelClosedByBroker) as ctx:
            ch.exchange_declare(name, 'fanout')
        self.assert_channel_error(
            ctx, 406, "PRECONDITION_FAILED - inequivalent arg 'type' for "
            "exchange '%s' in vhost '/': received 'fanout' but current is "
            "'direct'" % name)
        self.assertTrue(conn.is_open)

    def test_passive_declare_of_missing_exchange_is_404(self):
        ch = self.channel()
        name = self.unique('missing')
        with self.assertRaises(ChannelClosedByBroker) as ctx:
            ch.exchange_declare(name, 'direct', passive=True)
        self.assert_channel_error(
            ctx, 404, "NOT_FOUND - no exchange '%s' in vhost '/'" % name)

    def assert_bad_type_closes_connection(self, kind, text):
        conn = self.connect()
        ch = conn.channel()
        with self.assertRaises(ConnectionClosedByBroker) as ctx:
            ch.exchange_declare(self.exchange_name(), kind)
        self.assert_channel_error(ctx, 503, text)
        self.assertFalse(conn.is_open)
        self.assert_broker_healthy()

    def test_unknown_exchange_type_closes_connection_with_503(self):
        self.assert_bad_type_closes_connection(
            'nosuchtype', "COMMAND_INVALID - unknown exchange type "
            "'nosuchtype'")

    def test_unknown_x_exchange_type_closes_connection_with_503(self):
        self.assert_bad_type_closes_connection(
            'x-no-such-type', "COMMAND_INVALID - unknown exchange type "
            "'x-no-such-type'")

    def test_passive_declare_ignores_type(self):
        ch = self.channel()
        ch.exchange_declare('amq.direct', 'nosuchtype', passive=True)
        ch.exchange_declare('amq.direct', 'fanout', passive=True)

    def test_default_exchange_operations_are_403(self):
        operations = {
            'declare': lambda ch: ch.exchange_declare('', 'direct'),
            'declare passive': lambda ch: ch.exchange_declare(
                '', 'direct', passive=True),
            'delete': lambda ch: ch.exchange_delete(''),
            'bind': lambda ch: ch.queue_bind(self.declare(ch), '', 'k'),
            'unbind': lambda ch: ch.queue_unbind(self.declare(ch), '', 'k'),
        }
        conn = self.connect()
        for label, operation in operations.items():
            with self.subTest(operation=label):
                with self.assertRaises(ChannelClosedByBroker) as ctx:
                    operation(conn.channel())
                self.assert_channel_error(ctx, *DEFAULT_EXCHANGE_403)

    def test_amq_prefix_exchange_is_403(self):
        ch = self.channel()
        with self.assertRaises(ChannelClosedByBroker) as ctx:
            ch.exchange_declare('amq.burrow-test', 'direct')
        self.assert_channel_error(
            ctx, 403, "ACCESS_REFUSED - exchange name 'amq.burrow-test' "
            "contains reserved prefix 'amq.*'")

    def test_predeclared_exchanges_exist(self):
        conn = self.connect()
        for name, kind in [('amq.direct', 'direct'), ('amq.fanout', 'fanout'),
                           ('amq.topic', 'topic'), ('amq.headers', 'headers'),
                           ('amq.match', 'headers')]:
            with self.subTest(exchange=name):
                conn.channel().exchange_declare(name, kind, passive=True)
                conn.channel().exchange_declare(name, kind, durable=True)

    def test_deleting_system_exchange_is_403(self):
        ch = self.channel()
        with self.assertRaises(ChannelClosedByBroker) as ctx:
            ch.exchange_delete('amq.direct')
        self.assert_channel_error(
            ctx, 403, "ACCESS_REFUSED - deletion of system exchange "
            "'amq.direct' in vhost '/' not allowed")

    def test_delete_missing_exchange_is_ok(self):
        ch = self.channel()
        ch.exchange_delete(self.unique('missing'))
        ch.queue_declare('', exclusive=True)


if __name__ == '__main__':
    harness.main()
