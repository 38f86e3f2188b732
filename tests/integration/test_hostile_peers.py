"""Hostile and overloaded peers before authentication: a flood of half-open connections, a
client dripping its handshake a byte at a time, and a broker out of file descriptors. Each
must cost the broker a bounded amount for a bounded time, and clients that behave must still
be served (docs/reliability.md section 2).

burrowd only: these need its --handshake-timeout and its file-descriptor limit, and
RabbitMQ's figures for the same inputs are in docs/reliability.md."""

import base64
import json
import os
import resource
import socket
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import pika  # noqa: E402

import harness  # noqa: E402
from harness import PROTOCOL_HEADER, BrokerTestCase, BrokerUnderTest  # noqa: E402

HANDSHAKE_TIMEOUT_MS = 1000


def open_silent_sockets(broker, count):
    """TCP connections that never send a byte."""
    socks = []
    for _ in range(count):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b'\x01\x00\x00\x00\x00\x00\x00\x00')
        s.settimeout(10)
        s.connect((broker.host, broker.port))
        socks.append(s)
    return socks


def wait_closed_by_broker(sock, timeout):
    """True when the broker closes the socket (EOF or reset) within `timeout` seconds."""
    sock.settimeout(timeout)
    try:
        while True:
            data = sock.recv(4096)
            if not data:
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False


def works(broker, **overrides):
    """A well-behaved client can declare, publish and get."""
    conn = pika.BlockingConnection(broker.connection_parameters(**overrides))
    try:
        ch = conn.channel()
        name = ch.queue_declare('', exclusive=True).method.queue
        ch.basic_publish('', name, b'still here')
        method, _, body = ch.basic_get(name, auto_ack=True)
        return method is not None and body == b'still here'
    finally:
        conn.close()


def skip_if_external(test):
    if os.environ.get('AMQP_URL_UNDER_TEST'):
        test.skipTest('needs burrowd flags (external broker under test)')


class HalfOpenFloodTest(BrokerTestCase):
    burrowd_args = ('--handshake-timeout', str(HANDSHAKE_TIMEOUT_MS))

    def test_a_flood_of_silent_connections_is_shed_and_others_are_served(self):
        skip_if_external(self)
        # 1000 sockets, fewer if this process may not hold them (burrowd's own limit is the
        # same, so its socket limit may hold some of them in the backlog: they are served later).
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        self.addCleanup(resource.setrlimit, resource.RLIMIT_NOFILE, (soft, hard))
        socks = open_silent_sockets(self.broker, min(1000, hard - 200))
        try:
            # While the silent connections sit in the handshake, a real client gets through.
            self.assertTrue(works(self.broker))
            # Each silent connection is closed once the handshake timeout passes.
            for s in socks:
                self.assertTrue(wait_closed_by_broker(s, 10), 'a silent socket stayed open')
        finally:
            for s in socks:
                s.close()
        self.assertTrue(works(self.broker))

    def test_a_client_dripping_its_handshake_is_cut_off_at_the_timeout(self):
        skip_if_external(self)
        sock = socket.create_connection((self.broker.host, self.broker.port), timeout=10)
        started = time.monotonic()
        closed = False
        # One byte of the protocol header every 100 ms, then start-ok bytes forever: the
        # broker keeps receiving data but the handshake never finishes.
        drip = PROTOCOL_HEADER + b'\x01' * 10000
        for i in range(len(drip)):
            try:
                sock.sendall(drip[i:i + 1])
            except (BrokenPipeError, ConnectionResetError):
                closed = True
                break
            sock.settimeout(0.1)
            try:
                # After the header the broker sends connection.start; the drip continues.
                data = sock.recv(65536)
                if data == b'':
                    closed = True
                    break
            except socket.timeout:
                pass
            except ConnectionResetError:
                closed = True
                break
            if time.monotonic() - started > 8:
                break
        elapsed = time.monotonic() - started
        sock.close()
        self.assertTrue(closed, 'the dripping client was never disconnected')
        # Cut off at the handshake timeout (1 s), not at some later idle rule.
        self.assertLess(elapsed, 5)


class SocketLimitTest(BrokerTestCase):
    """burrowd runs with 64 file descriptors, so its socket limit is 28 ((64 - 32) x 0.9, as
    RabbitMQ derives its own). 150 silent connections: it accepts 28, stops accepting (the rest
    wait in the kernel's backlog) instead of running out of descriptors, sheds the silent ones
    at the handshake timeout, takes the next ones from the backlog, and then serves a real
    client. Without the limit it ran out of descriptors, and its acceptor spun on EMFILE
    (178 167 "accept failed" lines in 2 s, 100 % CPU)."""

    FD_LIMIT = 64

    @classmethod
    def setUpClass(cls):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        cls.burrowd_args = ('--handshake-timeout', str(HANDSHAKE_TIMEOUT_MS))
        # burrowd inherits the lowered limit; this process gets its own back at once.
        resource.setrlimit(resource.RLIMIT_NOFILE, (cls.FD_LIMIT, hard))
        try:
            cls.broker = BrokerUnderTest(cls.burrowd_args)
        finally:
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))

    def test_a_flood_stops_at_the_socket_limit_and_the_broker_recovers(self):
        skip_if_external(self)
        socks = open_silent_sockets(self.broker, 150)
        try:
            # Every one is accepted and shed in turn, 28 per handshake timeout.
            for s in socks:
                self.assertTrue(wait_closed_by_broker(s, 20), 'a silent socket stayed open')
        finally:
            for s in socks:
                s.close()
        self.assertTrue(works(self.broker))
        log = self.broker.stderr_text()
        self.assertIn('socket limit (28) reached: new connections wait until one closes', log)
        self.assertNotIn('accept failed', log)
        # The management API reports the limit as RabbitMQ does (sockets_total).
        request = urllib.request.Request(
            self.broker.http_url.rstrip('/') + '/api/nodes',
            headers={'Authorization': 'Basic ' + base64.b64encode(b'guest:guest').decode()})
        with urllib.request.urlopen(request, timeout=10) as response:
            node = json.loads(response.read())[0]
        self.assertEqual(node['sockets_total'], 28)


if __name__ == '__main__':
    harness.main()
