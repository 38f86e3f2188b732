"""Byte-level AMQP 0-9-1: protocol header, handshake and protocol errors."""

import os
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
from harness import (PROTOCOL_HEADER, BrokerTestCase,  # noqa: E402
                     method_frame, shortstr)

RABBIT_CAPABILITIES = {
    'publisher_confirms': True, 'exchange_exchange_bindings': True,
    'basic.nack': True, 'consumer_cancel_notify': True,
    'connection.blocked': True, 'consumer_priorities': True,
    'authentication_failure_close': True, 'per_consumer_qos': True,
    'direct_reply_to': True,
}
AUTH_FAILURE_CLOSE = {'authentication_failure_close': True}


def login_refused(mechanism):
    return (403, 'ACCESS_REFUSED - Login was refused using authentication '
                 'mechanism %s. For details see the broker logfile.'
            % mechanism, 0, 0)


class RawTestCase(BrokerTestCase):
    """Helpers for tests that speak frames by hand."""

    def opened(self, frame_max=131072, channel=None):
        conn = self.raw()
        conn.handshake(frame_max=frame_max)
        if channel is not None:
            conn.open_channel(channel)
        return conn

    def assert_connection_error(self, conn, expected):
        """conn gets connection.close == expected, then closes on close-ok."""
        self.assertEqual(conn.expect_close(), expected)
        conn.send(harness.connection_close_ok())
        self.assertTrue(conn.wait_closed(), 'socket left open')
        self.assert_broker_healthy()

    def assert_fatal_frame_error(self, conn, expected):
        """A framing error: connection.close == expected, on channel 0."""
        frame = conn.read_frame()
        self.assertIsNotNone(frame, 'no connection.close received')
        self.assertEqual(frame.channel, 0)
        self.assertEqual(harness.decode_close(frame), expected)
        conn.send(harness.connection_close_ok())
        conn.close()
        self.assert_broker_healthy()

    def assert_dropped_without_reply(self, conn, timeout=5.0):
        """The broker closes the socket without sending any frame."""
        frame = conn.read_frame(timeout=timeout)
        self.assertIsNone(frame, 'expected silent close, got %r' % (frame,))
        self.assertTrue(conn.eof, 'socket still open after %.0f s' % timeout)


class ProtocolHeaderTest(RawTestCase):
    """Anything but AMQP 0-9-1's header is answered with that header."""

    BAD_HEADERS = [
        b'AMQP\x00\x00\x09\x00',
        b'AMQP\x00\x00\x09\x02',
        b'AMQP\x00\x00\x08\x00',
        b'AMQP\x00\x00\x0a\x00',
        b'AMQP\x00\x01\x00\x00',
        b'AMQP\x03\x01\x00\x00',
        b'HTTP/1.1',
        b'GET / HTTP/1.1\r\nHost: localhost\r\n\r\n',
    ]

    def test_wrong_header_gets_supported_header_and_close(self):
        for header in self.BAD_HEADERS:
            with self.subTest(header=header):
                conn = self.raw()
                conn.send(header)
                self.assertEqual(conn.read_exact(8), PROTOCOL_HEADER)
                self.assertTrue(conn.wait_closed(), 'socket left open')
                self.assertEqual(conn.buf, b'')
        self.assert_broker_healthy()

    def test_header_in_two_pieces_is_accepted(self):
        conn = self.raw()
        conn.send(PROTOCOL_HEADER[:3])
        time.sleep(0.05)
        start = conn.start(PROTOCOL_HEADER[3:])
        self.assertEqual(start.channel, 0)


class HandshakeTest(RawTestCase):
    """connection.start / tune / open, as RabbitMQ 3.10 sends them."""

    def test_connection_start(self):
        conn = self.raw()
        start = conn.start()
        self.assertEqual((start.type, start.channel), (1, 0))
        args = start.args()
        self.assertEqual((args.octet(), args.octet()), (0, 9))
        props = args.table()
        mechanisms = args.longstr()
        locales = args.longstr()
        self.assertEqual(mechanisms, b'AMQPLAIN PLAIN')
        self.assertEqual(locales, b'en_US')
        self.assertEqual(props['capabilities'], RABBIT_CAPABILITIES)
        for key in ('product', 'version', 'platform', 'copyright',
                    'information'):
            self.assertIsInstance(props.get(key), str, key)
            self.assertTrue(props[key], key)
        self.assertEqual(args.pos, len(args.data))

    def test_tune_values(self):
        conn = self.raw()
        conn.start()
        conn.send(harness.start_ok())
        tune = conn.expect_method(10, 30)
        self.assertEqual(tune.channel, 0)
        self.assertEqual(tune.payload[4:], struct.pack('>HIH', 2047, 131072,
                                                       60))

    def test_plain_handshake_and_open_ok_payloads(self):
        conn = self.raw()
        conn.start()
        conn.send(harness.start_ok('PLAIN'))
        conn.expect_method(10, 30)
        conn.send(harness.tune_ok())
        conn.send(harness.connection_open('/'))
        open_ok = conn.expect_method(10, 41)
        self.assertEqual(open_ok.payload, struct.pack('>HHB', 10, 41, 0))
        conn.send(harness.channel_open(1))
        ch_ok = conn.expect_method(20, 11)
        self.assertEqual((ch_ok.channel, ch_ok.payload),
                         (1, struct.pack('>HHI', 20, 11, 0)))

    def test_amqplain_login(self):
        conn = self.raw()
        self.assertEqual(conn.handshake(mechanism='AMQPLAIN'),
                         (2047, 131072, 60))
        conn.open_channel(7)

    def test_client_initiated_close(self):
        conn = self.opened(channel=1)
        conn.send(harness.channel_close(1))
        ok = conn.expect_method(20, 41)
        self.assertEqual(ok.channel, 1)
        conn.send(harness.connection_close())
        ok = conn.expect_method(10, 51)
        self.assertEqual((ok.channel, ok.payload), (0, b'\x00\x0a\x00\x33'))

    def test_smaller_frame_max_and_channel_max_are_accepted(self):
        conn = self.raw()
        conn.start()
        conn.send(harness.start_ok())
        conn.expect_method(10, 30)
        conn.send(harness.tune_ok(channel_max=10, frame_max=4096))
        conn.send(harness.connection_open())
        conn.expect_method(10, 41)
        conn.open_channel(1)

    def test_bad_password_with_auth_failure_close_gets_403(self):
        conn = self.raw()
        conn.start()
        conn.send(harness.start_ok(password='wrong',
                                   capabilities=AUTH_FAILURE_CLOSE))
        self.assert_connection_error(conn, login_refused('PLAIN'))

    def test_bad_amqplain_password_gets_403(self):
        conn = self.raw()
        conn.start()
        conn.send(harness.start_ok('AMQPLAIN', password='wrong',
                                   capabilities=AUTH_FAILURE_CLOSE))
        self.assert_connection_error(conn, login_refused('AMQPLAIN'))

    def test_unknown_user_gets_403(self):
        conn = self.raw()
        conn.start()
        conn.send(harness.start_ok(user='nobody-here',
                                   capabilities=AUTH_FAILURE_CLOSE))
        self.assert_connection_error(conn, login_refused('PLAIN'))

    def test_unknown_vhost_is_530(self):
        conn = self.raw()
        conn.start()
        conn.send(harness.start_ok())
        conn.expect_method(10, 30)
        conn.send(harness.tune_ok())
        conn.send(harness.connection_open('no-such-vhost'))
        self.assert_connection_error(
            conn, (530, 'NOT_ALLOWED - vhost no-such-vhost not found',
                   10, 40))

    def test_handshake_failures_drop_the_socket_silently(self):
        """No close frame: RabbitMQ waits ~3 s, then closes the socket."""
        cases = {
            'bad password, no capability':
                [harness.start_ok(password='wrong')],
            'bad password, capability false':
                [harness.start_ok(password='wrong', capabilities={
                    'authentication_failure_close': False})],
            'unknown mechanism':
                [harness.start_ok('NO-SUCH-MECH',
                                  capabilities=AUTH_FAILURE_CLOSE)],
            'frame_max above 131072': [harness.start_ok(), 'tune',
                                       harness.tune_ok(frame_max=131073)],
            'frame_max below 4096': [harness.start_ok(), 'tune',
                                     harness.tune_ok(frame_max=4095)],
            'frame_max 0': [harness.start_ok(), 'tune',
                            harness.tune_ok(frame_max=0)],
            'channel_max above 2047': [harness.start_ok(), 'tune',
                                       harness.tune_ok(channel_max=2048)],
            'channel_max 0': [harness.start_ok(), 'tune',
                              harness.tune_ok(channel_max=0)],
        }
        conns = {}
        for label, steps in cases.items():
            conn = conns[label] = self.raw(timeout=10)
            conn.start()
            for step in steps:
                if step == 'tune':
                    conn.expect_method(10, 30)
                else:
                    conn.send(step)
        for label, conn in conns.items():
            with self.subTest(case=label):
                self.assert_dropped_without_reply(conn, timeout=8)
        self.assert_broker_healthy()


class FrameErrorTest(RawTestCase):
    """Malformed frames are fatal 501 FRAME_ERRORs."""

    def publish_start(self, conn, body_size):
        conn.send(harness.basic_publish(1, '', self.unique('nowhere'))
                  + harness.header_frame(1, body_size))

    def test_body_frame_larger_than_frame_max(self):
        conn = self.opened(channel=1)
        self.publish_start(conn, 200000)
        conn.send(harness.body_frame(1, b'a' * 131073))
        self.assert_fatal_frame_error(conn, (
            501, 'FRAME_ERROR - type 3, all octets = <<>>: '
                 '{frame_too_large,131073,131064}', 0, 0))

    def test_method_frame_larger_than_negotiated_frame_max(self):
        conn = self.opened(frame_max=4096)
        conn.send(harness.frame(1, 0, b'\x00' * 4097))
        self.assert_fatal_frame_error(conn, (
            501, 'FRAME_ERROR - type 1, all octets = <<>>: '
                 '{frame_too_large,4097,4088}', 0, 0))

    def test_frame_payload_up_to_frame_max_is_tolerated(self):
        queue = self.queue_name()
        conn = self.opened(frame_max=4096, channel=1)
        conn.send(harness.queue_declare(1, queue))
        conn.expect_method(50, 11)
        body = bytes(range(256)) * 16
        conn.send(harness.basic_publish(1, '', queue)
                  + harness.header_frame(1, len(body))
                  + harness.body_frame(1, body))
        conn.send(harness.basic_get(1, queue))
        conn.expect_method(60, 71)
        self.assertEqual(harness.read_content(conn)[1], body)

    def test_bad_frame_end_octet(self):
        conn = self.opened()
        conn.send(harness.frame(1, 1, struct.pack('>HH', 20, 10) + b'\x00',
                                end=0x00))
        self.assert_fatal_frame_error(conn, (
            501, 'FRAME_ERROR - type 1, all octets = <<0,20,0,10,0>>: '
                 '{invalid_frame_end_marker,0}', 0, 0))

    def test_bad_frame_end_on_printable_body(self):
        conn = self.opened(channel=1)
        self.publish_start(conn, 5)
        conn.send(harness.frame(3, 1, b'hello', end=0xCD))
        self.assert_fatal_frame_error(conn, (
            501, 'FRAME_ERROR - type 3, all octets = <<"hello">>: '
                 '{invalid_frame_end_marker,205}', 0, 0))

    def test_unknown_frame_type(self):
        conn = self.opened()
        conn.send(harness.frame(9, 0, b''))
        self.assert_fatal_frame_error(conn, (
            501, 'FRAME_ERROR - type 9, all octets = <<>>: unknown_frame',
            0, 0))


class MethodErrorTest(RawTestCase):
    """Well-formed frames that break the protocol's rules."""

    def test_unknown_class_or_method_drops_connection(self):
        """RabbitMQ's reader crashes: the socket closes with no frame."""
        cases = [(0, 10, 99), (1, 99, 1), (1, 60, 99), (1, 50, 99),
                 (1, 20, 99)]
        for channel, class_id, method_id in cases:
            with self.subTest(class_id=class_id, method_id=method_id):
                conn = self.opened(channel=1)
                conn.send(method_frame(channel, class_id, method_id))
                self.assert_dropped_without_reply(conn)
        self.assert_broker_healthy()

    def test_method_on_unopened_channel_is_504(self):
        conn = self.opened()
        conn.send(harness.queue_declare(3, 'q'))
        self.assert_connection_error(
            conn, (504, "CHANNEL_ERROR - expected 'channel.open'", 50, 10))

    def test_channel_open_twice_is_504(self):
        conn = self.opened(channel=1)
        conn.send(harness.channel_open(1))
        self.assert_connection_error(
            conn, (504, "CHANNEL_ERROR - second 'channel.open' seen", 20, 10))

    def test_channel_close_on_closed_channel_is_504(self):
        conn = self.opened(channel=1)
        conn.send(harness.channel_close(1))
        conn.expect_method(20, 41)
        conn.send(harness.channel_close(1))
        self.assert_connection_error(
            conn, (504, "CHANNEL_ERROR - expected 'channel.open'", 20, 40))

    def test_channel_method_on_channel_zero_is_504(self):
        conn = self.opened()
        conn.send(harness.channel_open(0))
        self.assert_connection_error(conn, (
            504, 'CHANNEL_ERROR - unexpected method in connection state '
                 'running', 20, 10))

    def test_connection_open_on_channel_zero_again_is_504(self):
        conn = self.opened()
        conn.send(harness.connection_open())
        self.assert_connection_error(conn, (
            504, 'CHANNEL_ERROR - unexpected method in connection state '
                 'running', 10, 40))

    def test_connection_method_on_channel_one_is_503(self):
        conn = self.opened(channel=1)
        conn.send(method_frame(1, 10, 40, shortstr('/') + shortstr('')
                               + b'\x00'))
        self.assert_connection_error(
            conn, (503, 'COMMAND_INVALID - unimplemented method', 10, 40))

    def test_heartbeat_on_channel_one_is_505(self):
        conn = self.opened(channel=1)
        conn.send(harness.heartbeat_frame(1))
        self.assert_connection_error(
            conn, (505, 'UNEXPECTED_FRAME - type 8, all octets = <<>>', 0, 0))

    def test_heartbeat_on_channel_zero_is_fine(self):
        conn = self.opened()
        conn.send(harness.heartbeat_frame(0))
        conn.open_channel(1)

    def test_body_without_publish_is_505(self):
        conn = self.opened(channel=1)
        conn.send(harness.body_frame(1, b'stray'))
        self.assert_connection_error(conn, (
            505, 'UNEXPECTED_FRAME - expected method frame, got non method '
                 'frame instead', 0, 0))

    def test_header_without_publish_is_505(self):
        conn = self.opened(channel=1)
        conn.send(harness.header_frame(1, 3))
        self.assert_connection_error(conn, (
            505, 'UNEXPECTED_FRAME - expected method frame, got non method '
                 'frame instead', 0, 0))

    def test_method_instead_of_content_header_is_505(self):
        conn = self.opened(channel=1)
        conn.send(harness.basic_publish(1, '', 'q'))
        conn.send(harness.queue_declare(1, ''))
        self.assert_connection_error(conn, (
            505, 'UNEXPECTED_FRAME - expected content header for class 60, '
                 'got non content header frame instead', 60, 40))

    def test_frames_ignored_until_channel_close_ok(self):
        conn = self.opened(channel=1)
        missing = self.unique('missing')
        publish = (harness.basic_publish(1, missing, 'k')
                   + harness.header_frame(1, 1) + harness.body_frame(1, b'x'))
        conn.send(publish)
        self.assertEqual(conn.expect_close(), (
            404, "NOT_FOUND - no exchange '%s' in vhost '/'" % missing,
            60, 40))
        conn.send(harness.queue_declare(1, '', exclusive=True) + publish)
        self.assertIsNone(conn.read_frame(timeout=0.3))
        conn.send(method_frame(1, 20, 41))
        conn.open_channel(1)
        conn.send(harness.queue_declare(1, '', exclusive=True))
        conn.expect_method(50, 11)


class ChannelNumberTest(RawTestCase):
    """Channel numbers above channel_max are allowed (RabbitMQ counts open channels)."""

    def test_channel_65535_opens_and_works(self):
        conn = self.opened(channel=65535)
        conn.send(harness.queue_declare(65535, ''))
        conn.expect_method(50, 11)
        conn.send(harness.channel_close(65535))
        conn.expect_method(20, 41)
        conn.open_channel(65535)


class ContentErrorTest(RawTestCase):
    """Content frames that break the header/body rules (observed on RabbitMQ 3.10.8)."""

    EXPECTED_BODY = (505, 'UNEXPECTED_FRAME - expected content body, got non '
                          'content body frame instead', 60, 40)

    def publish(self, conn):
        conn.send(harness.basic_publish(1, '', self.unique('q')))

    @staticmethod
    def header(channel, body_size, class_id=60, weight=0):
        payload = struct.pack('>HHQH', class_id, weight, body_size, 0)
        return harness.frame(harness.FRAME_HEADER, channel, payload)

    def assert_no_reply_yet(self, conn):
        self.assertIsNone(conn.read_frame(timeout=1.0), 'unexpected frame')
        self.assertFalse(conn.eof, 'socket closed')

    def test_header_of_another_class_is_505(self):
        conn = self.opened(channel=1)
        self.publish(conn)
        conn.send(self.header(1, 3, class_id=50))
        self.assert_connection_error(conn, (
            505, 'UNEXPECTED_FRAME - expected content header for class 60, '
                 'got one for class 50 instead', 60, 40))

    def test_header_with_a_weight_is_505(self):
        conn = self.opened(channel=1)
        self.publish(conn)
        conn.send(self.header(1, 3, weight=1))
        self.assert_connection_error(conn, (
            505, 'UNEXPECTED_FRAME - expected content header for class 60, '
                 'got non content header frame instead', 60, 40))

    def test_header_announcing_more_than_512_mib_waits_for_the_body(self):
        """No error for the size itself: the next method is the 505."""
        conn = self.opened(channel=1)
        self.publish(conn)
        conn.send(self.header(1, 512 * 1024 * 1024 + 1))
        self.assert_no_reply_yet(conn)
        conn.send(harness.queue_declare(1, ''))
        self.assert_connection_error(conn, self.EXPECTED_BODY)

    def test_body_longer_than_announced_never_completes(self):
        """The extra bytes are taken in silently; the content never completes."""
        conn = self.opened(channel=1)
        self.publish(conn)
        conn.send(self.header(1, 3) + harness.body_frame(1, b'toolong'))
        self.assert_no_reply_yet(conn)
        conn.send(harness.body_frame(1, b'more'))
        self.assert_no_reply_yet(conn)
        conn.send(harness.queue_declare(1, ''))
        self.assert_connection_error(conn, self.EXPECTED_BODY)

    def test_method_or_header_while_body_is_due_is_505(self):
        for extra in (harness.queue_declare(1, ''), self.header(1, 3)):
            with self.subTest(extra=extra[:1]):
                conn = self.opened(channel=1)
                self.publish(conn)
                conn.send(self.header(1, 10) + harness.body_frame(1, b'abc') + extra)
                self.assert_connection_error(conn, self.EXPECTED_BODY)

    def test_content_frames_on_channel_zero_are_505(self):
        cases = [
            (harness.body_frame(0, b'abc'),
             'UNEXPECTED_FRAME - type 3, all octets = <<"abc">>'),
            (self.header(0, 3),
             'UNEXPECTED_FRAME - type 2, all octets = '
             '<<0,60,0,0,0,0,0,0,0,0,0,3,0,0>>'),
        ]
        for frame, text in cases:
            with self.subTest(text=text):
                conn = self.opened(channel=1)
                conn.send(frame)
                self.assert_connection_error(conn, (505, text, 0, 0))

    def test_empty_body_frame_is_accepted(self):
        conn = self.opened(channel=1)
        self.publish(conn)
        conn.send(self.header(1, 3) + harness.body_frame(1, b'')
                  + harness.body_frame(1, b'abc') + harness.queue_declare(1, ''))
        conn.expect_method(50, 11)


class CloseReplyIdsTest(RawTestCase):
    """Exact close replies, including the failing method's class and id."""

    CHANNEL_ERRORS = [
        ('passive declare of missing queue',
         harness.queue_declare(1, 'burrow-raw-none', passive=True),
         (404, "NOT_FOUND - no queue 'burrow-raw-none' in vhost '/'",
          50, 10)),
        ('basic.get from missing queue',
         harness.basic_get(1, 'burrow-raw-none'),
         (404, "NOT_FOUND - no queue 'burrow-raw-none' in vhost '/'",
          60, 70)),
        ('passive declare of missing exchange',
         harness.exchange_declare(1, 'burrow-raw-none', passive=True),
         (404, "NOT_FOUND - no exchange 'burrow-raw-none' in vhost '/'",
          40, 10)),
        ('declare default exchange',
         harness.exchange_declare(1, ''),
         (403, 'ACCESS_REFUSED - operation not permitted on the default '
               'exchange', 40, 10)),
        ('bind to default exchange',
         harness.queue_bind(1, 'burrow-raw-none', ''),
         (403, 'ACCESS_REFUSED - operation not permitted on the default '
               'exchange', 50, 20)),
        ('declare amq.* exchange',
         harness.exchange_declare(1, 'amq.burrow'),
         (403, "ACCESS_REFUSED - exchange name 'amq.burrow' contains "
               "reserved prefix 'amq.*'", 40, 10)),
        ('declare amq.* queue',
         harness.queue_declare(1, 'amq.burrow'),
         (403, "ACCESS_REFUSED - queue name 'amq.burrow' contains reserved "
               "prefix 'amq.*'", 50, 10)),
        ('delete system exchange',
         harness.exchange_delete(1, 'amq.fanout'),
         (403, "ACCESS_REFUSED - deletion of system exchange 'amq.fanout' "
               "in vhost '/' not allowed", 40, 20)),
        ('redeclare amq.direct non-durable',
         harness.exchange_declare(1, 'amq.direct'),
         (406, "PRECONDITION_FAILED - inequivalent arg 'durable' for "
               "exchange 'amq.direct' in vhost '/': received 'false' but "
               "current is 'true'", 40, 10)),
        ('basic.ack of unknown tag', harness.basic_ack(1, 5),
         (406, 'PRECONDITION_FAILED - unknown delivery tag 5', 60, 80)),
        ('basic.nack of unknown tag', harness.basic_ack(1, 6, method_id=120),
         (406, 'PRECONDITION_FAILED - unknown delivery tag 6', 60, 120)),
        ('basic.reject of unknown tag', harness.basic_ack(1, 7, method_id=90),
         (406, 'PRECONDITION_FAILED - unknown delivery tag 7', 60, 90)),
    ]

    CONNECTION_ERRORS = [
        ('unknown exchange type',
         harness.exchange_declare(1, 'burrow-raw-x', 'nosuchtype'),
         (503, "COMMAND_INVALID - unknown exchange type 'nosuchtype'",
          40, 10)),
        ('basic.recover requeue=false', harness.basic_recover(1, False),
         (540, 'NOT_IMPLEMENTED - requeue=false', 60, 110)),
        ('basic.qos prefetch_size', harness.basic_qos(1, prefetch_size=10),
         (540, 'NOT_IMPLEMENTED - prefetch_size!=0 (10)', 60, 10)),
    ]

    def test_channel_errors(self):
        conn = self.opened(channel=1)
        for label, request, expected in self.CHANNEL_ERRORS:
            with self.subTest(case=label):
                conn.send(request)
                close = conn.read_frame()
                self.assertEqual(getattr(close, 'channel', None), 1)
                self.assertEqual(harness.decode_close(close), expected)
                conn.send(method_frame(1, 20, 41))
                conn.open_channel(1)

    def test_connection_errors(self):
        for label, request, expected in self.CONNECTION_ERRORS:
            with self.subTest(case=label):
                conn = self.opened(channel=1)
                conn.send(request)
                self.assert_connection_error(conn, expected)


class HeartbeatTest(RawTestCase):
    """Negotiated heartbeats are sent, and silence is punished."""

    def test_server_sends_heartbeats_and_drops_silent_client(self):
        conn = self.raw(timeout=10)
        conn.handshake(heartbeat=1)
        started = time.monotonic()
        frame = conn.read_frame(timeout=2, skip_heartbeats=False)
        self.assertIsNotNone(frame, 'no heartbeat within 2 s')
        self.assertEqual((frame.type, frame.channel, frame.payload),
                         (harness.FRAME_HEARTBEAT, 0, b''))
        self.assert_dropped_without_reply(conn, timeout=6)
        self.assertGreater(time.monotonic() - started, 1.5)
        self.assert_broker_healthy()


if __name__ == '__main__':
    harness.main()
