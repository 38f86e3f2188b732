"""amqps: TLS on burrowd's AMQP listener (--tls-* flags), driven by pika.

A throwaway PKI is made with the openssl CLI per run: a test CA, a server
certificate for localhost and 127.0.0.1 (subjectAltName), a client
certificate, and a second CA that signed nothing burrowd trusts.
"""

import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import pika  # noqa: E402

import harness  # noqa: E402
from harness import BrokerTestCase, get_message  # noqa: E402

PKI = None  # the directory of the test certificates, made in setUpModule

OPENSSL_CONF = """\
[req]
distinguished_name = dn
prompt = no
[dn]
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost,IP:127.0.0.1
[client]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
"""


def openssl(*args):
    subprocess.run(('openssl',) + args, cwd=PKI, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def make_ca(name):
    openssl('req', '-config', 'openssl.cnf', '-x509', '-newkey', 'ec',
            '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
            '-keyout', name + '.key', '-out', name + '.pem', '-days', '2',
            '-subj', '/CN=Burrow test %s' % name, '-extensions', 'ca')


def make_leaf(name, ca, extensions, cn):
    openssl('req', '-config', 'openssl.cnf', '-new', '-newkey', 'ec',
            '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
            '-keyout', name + '.key', '-out', name + '.csr', '-subj',
            '/CN=' + cn)
    openssl('x509', '-req', '-in', name + '.csr', '-CA', ca + '.pem',
            '-CAkey', ca + '.key', '-set_serial', str(int(time.time() * 1e6)),
            '-days', '2', '-extfile', 'openssl.cnf', '-extensions',
            extensions, '-out', name + '.pem')


def setUpModule():
    global PKI
    if os.environ.get('AMQP_URL_UNDER_TEST'):
        raise unittest.SkipTest('TLS tests start their own burrowd')
    PKI = tempfile.mkdtemp(prefix='burrow-tls-test-')
    with open(os.path.join(PKI, 'openssl.cnf'), 'w') as f:
        f.write(OPENSSL_CONF)
    make_ca('ca')
    make_ca('other-ca')
    make_leaf('server', 'ca', 'server', 'localhost')
    make_leaf('client', 'ca', 'client', 'burrow-test-client')
    make_leaf('stranger', 'other-ca', 'client', 'stranger')


def tearDownModule():
    if PKI:
        shutil.rmtree(PKI, ignore_errors=True)


def pki(name):
    return os.path.join(PKI, name)


def client_context(ca='ca', cert=None):
    """What an application does: trust `ca`, check the host name, and
    present `cert` (a name under PKI) if given."""
    ctx = ssl.create_default_context(cafile=pki(ca + '.pem'))
    if cert:
        ctx.load_cert_chain(pki(cert + '.pem'), pki(cert + '.key'))
    return ctx


class TlsTestCase(BrokerTestCase):
    """burrowd with both listeners; helpers to reach the amqps one."""

    extra_tls_args = ()

    @classmethod
    def setUpClass(cls):
        cls.burrowd_args = ['--tls-cert', pki('server.pem'),
                            '--tls-key', pki('server.key'),
                            '--tls-ca', pki('ca.pem'),
                            '--tls-port', '0'] + list(cls.extra_tls_args)
        super().setUpClass()
        url = cls.broker.url('amqps')
        if not url:
            raise AssertionError('no amqps URL on the ready line: %r'
                                 % cls.broker.urls)
        cls.tls_port = int(url.rsplit(':', 1)[1])

    def tls_params(self, context, server_hostname='localhost'):
        return self.broker.connection_parameters(
            port=self.tls_port,
            ssl_options=pika.SSLOptions(context, server_hostname))

    def connect_tls(self, context, server_hostname='localhost'):
        return self.connect(port=self.tls_port, ssl_options=pika.SSLOptions(
            context, server_hostname))

    def assert_tls_refused(self, context, server_hostname='localhost'):
        """pika cannot open a connection; returns the error's text. pika
        1.2 raises the client's own verification failure as the
        ssl.SSLCertVerificationError itself, the rest as
        AMQPConnectionError."""
        with self.assertRaises((pika.exceptions.AMQPConnectionError,
                                ssl.SSLError)) as ctx:
            conn = pika.BlockingConnection(
                self.tls_params(context, server_hostname))
            conn.close()
        return repr(ctx.exception)

    def assert_tls_healthy(self):
        """A client trusting the test CA (with the client certificate, for
        the classes that want one) can still publish and get over amqps."""
        conn = self.connect_tls(client_context(cert='client'))
        ch = conn.channel()
        name = self.declare(ch)
        ch.basic_publish('', name, b'still here')
        method, _, body = get_message(ch, name, auto_ack=True)
        self.assertEqual(body, b'still here')
        conn.close()

    def wait_for_log(self, text, timeout=5.0):
        deadline = time.monotonic() + timeout
        while text not in self.broker.stderr_text():
            if time.monotonic() > deadline:
                self.fail('burrowd never logged %r; stderr:\n%s'
                          % (text, self.broker.stderr_text()[-2000:]))
            time.sleep(0.05)


class TlsTest(TlsTestCase):
    """--tls-cert/--tls-key/--tls-ca without peer verification."""

    def test_ready_line_lists_amqp_http_then_amqps(self):
        self.assertEqual(len(self.broker.urls), 3, self.broker.urls)
        self.assertEqual(self.broker.urls[0],
                         'amqp://127.0.0.1:%d' % self.broker.port)
        self.assertTrue(self.broker.urls[1].startswith('http://127.0.0.1:'))
        self.assertEqual(self.broker.urls[2],
                         'amqps://127.0.0.1:%d' % self.tls_port)
        self.assertNotEqual(self.tls_port, self.broker.port)

    def test_publish_and_consume_over_amqps(self):
        conn = self.connect_tls(client_context())
        ch = conn.channel()
        ch.confirm_delivery()
        name = self.declare(ch)
        for i in range(100):
            ch.basic_publish('', name, b'secret %d' % i,
                             pika.BasicProperties(delivery_mode=2))
        got = []

        def on_message(channel, method, properties, body):
            got.append(body)
            channel.basic_ack(method.delivery_tag)
            if len(got) == 100:
                channel.stop_consuming()

        ch.basic_consume(name, on_message)
        ch.start_consuming()
        self.assertEqual(got, [b'secret %d' % i for i in range(100)])

    def test_large_messages_cross_many_tls_records(self):
        conn = self.connect_tls(client_context())
        ch = conn.channel()
        name = self.declare(ch)
        body = os.urandom(1024 * 1024)
        ch.basic_publish('', name, body)
        method, _, got = get_message(ch, name, auto_ack=True)
        self.assertEqual(got, body)

    def test_ip_address_in_subject_alt_name_verifies(self):
        conn = self.connect_tls(client_context(), server_hostname='127.0.0.1')
        self.assertTrue(conn.channel().is_open)

    def test_amqps_and_amqp_clients_share_queues(self):
        tls = self.connect_tls(client_context()).channel()
        plain = self.channel()
        name = self.declare(plain)
        tls.basic_publish('', name, b'from amqps')
        method, _, body = get_message(plain, name, auto_ack=True)
        self.assertEqual(body, b'from amqps')

    def test_client_not_trusting_the_ca_fails_verification(self):
        error = self.assert_tls_refused(client_context(ca='other-ca'))
        self.assertIn('CERTIFICATE_VERIFY_FAILED', error)
        self.assert_tls_healthy()

    def test_wrong_host_name_fails_verification(self):
        error = self.assert_tls_refused(client_context(),
                                        server_hostname='example.com')
        self.assertIn('CERTIFICATE_VERIFY_FAILED', error)
        self.assert_tls_healthy()

    def test_plain_amqp_client_on_the_tls_port_fails_cleanly(self):
        params = self.broker.connection_parameters(port=self.tls_port)
        started = time.monotonic()
        with self.assertRaises(pika.exceptions.AMQPConnectionError):
            pika.BlockingConnection(params)
        # Refused by the TLS handshake, not left to the handshake timeout.
        self.assertLess(time.monotonic() - started, 5)
        self.wait_for_log('TLS handshake with 127.0.0.1:')
        self.assert_tls_healthy()
        self.assert_broker_healthy()

    def test_raw_amqp_header_on_the_tls_port_gets_the_socket_closed(self):
        conn = harness.RawConnection('127.0.0.1', self.tls_port)
        self.addCleanup(conn.close)
        conn.send(harness.PROTOCOL_HEADER)
        self.assertTrue(conn.wait_closed(timeout=5), 'socket left open')
        # Whatever came back is a TLS alert record (type 21), not AMQP.
        self.assertFalse(conn.buf.startswith(b'AMQP'), conn.buf)
        if conn.buf:
            self.assertEqual(conn.buf[0], 21, conn.buf)
        self.assert_tls_healthy()

    def test_stalled_tls_handshake_does_not_block_others(self):
        # A client that connects and never says hello (it is closed after
        # the handshake timeout, 10 s, longer than this test waits).
        idle = socket.create_connection(('127.0.0.1', self.tls_port))
        self.addCleanup(idle.close)
        self.assert_tls_healthy()

    def test_client_dropping_the_tcp_connection_mid_session(self):
        ctx = client_context()
        raw = ctx.wrap_socket(
            socket.create_connection(('127.0.0.1', self.tls_port)),
            server_hostname='localhost')
        raw.sendall(harness.PROTOCOL_HEADER)
        raw.settimeout(5)
        self.assertEqual(raw.recv(7)[:1], bytes([harness.FRAME_METHOD]))
        raw.close()  # no close_notify, no AMQP close
        self.assert_tls_healthy()


class TlsVerifyPeerTest(TlsTestCase):
    """--tls-verify-peer --tls-fail-if-no-peer-cert: clients need a
    certificate from the CA in --tls-ca."""

    extra_tls_args = ('--tls-verify-peer', '--tls-fail-if-no-peer-cert')

    def test_client_with_a_certificate_from_the_ca_works(self):
        conn = self.connect_tls(client_context(cert='client'))
        ch = conn.channel()
        name = self.declare(ch)
        ch.basic_publish('', name, b'authenticated')
        method, _, body = get_message(ch, name, auto_ack=True)
        self.assertEqual(body, b'authenticated')

    def test_client_without_a_certificate_is_refused(self):
        self.assert_tls_refused(client_context())
        self.wait_for_log('TLS handshake with 127.0.0.1:')
        self.assert_tls_healthy()
        self.assert_broker_healthy()

    def test_client_with_a_certificate_from_another_ca_is_refused(self):
        self.assert_tls_refused(client_context(cert='stranger'))
        self.assert_tls_healthy()

    def test_refused_client_does_not_disturb_an_open_connection(self):
        conn = self.connect_tls(client_context(cert='client'))
        ch = conn.channel()
        name = self.declare(ch)
        self.assert_tls_refused(client_context())
        ch.basic_publish('', name, b'after the refusal')
        method, _, body = get_message(ch, name, auto_ack=True)
        self.assertEqual(body, b'after the refusal')


class HttpsApiTest(TlsTestCase):
    """--https-port: the management API over TLS with the same certificate."""

    extra_tls_args = ('--https-port', '0')

    def https_url(self):
        url = self.broker.url('https')
        self.assertIsNotNone(url, self.broker.urls)
        return url.replace('127.0.0.1', 'localhost')

    def test_api_answers_over_https(self):
        import base64
        import json
        import urllib.request
        req = urllib.request.Request(
            self.https_url() + '/api/whoami',
            headers={'Authorization': 'Basic ' +
                     base64.b64encode(b'guest:guest').decode()})
        with urllib.request.urlopen(req, context=client_context(), timeout=10) as resp:
            self.assertEqual(json.load(resp), {'name': 'guest', 'tags': ['administrator']})

    def test_https_port_refuses_an_untrusting_client(self):
        import urllib.error
        import urllib.request
        with self.assertRaises(urllib.error.URLError):
            urllib.request.urlopen(self.https_url() + '/api/overview',
                                   context=client_context(ca='other-ca'), timeout=10)
        self.assert_tls_healthy()


class TlsCommandLineTest(unittest.TestCase):
    """Bad --tls-* flags: burrowd exits 2 at once, saying what is wrong."""

    def run_burrowd(self, *args):
        binary = os.environ.get('BURROWD')
        if not binary:
            self.skipTest('set BURROWD=/path/to/burrowd')
        proc = subprocess.run(
            [binary, '--port', '0', '--in-memory', '--tls-port', '0'] +
            list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            timeout=20)
        return proc.returncode, proc.stderr.decode('utf-8', 'replace')

    def test_missing_key_file_is_named(self):
        missing = pki('no-such-key.pem')
        code, err = self.run_burrowd('--tls-cert', pki('server.pem'),
                                     '--tls-key', missing)
        self.assertEqual(code, 2, err)
        self.assertIn(missing, err)
        self.assertIn('No such file', err)

    def test_missing_certificate_file_is_named(self):
        missing = pki('no-such-cert.pem')
        code, err = self.run_burrowd('--tls-cert', missing,
                                     '--tls-key', pki('server.key'))
        self.assertEqual(code, 2, err)
        self.assertIn(missing, err)

    def test_key_of_another_certificate_is_refused(self):
        code, err = self.run_burrowd('--tls-cert', pki('server.pem'),
                                     '--tls-key', pki('client.key'))
        self.assertEqual(code, 2, err)
        self.assertIn('does not match', err)

    def test_certificate_without_key_is_refused(self):
        code, err = self.run_burrowd('--tls-cert', pki('server.pem'))
        self.assertEqual(code, 2, err)
        self.assertIn('--tls-cert and --tls-key must be given together', err)

    def test_verify_peer_without_ca_is_refused(self):
        code, err = self.run_burrowd('--tls-cert', pki('server.pem'),
                                     '--tls-key', pki('server.key'),
                                     '--tls-verify-peer')
        self.assertEqual(code, 2, err)
        self.assertIn('--tls-ca', err)


if __name__ == '__main__':
    harness.main()
