"""Management HTTP API, /metrics, users, vhosts and permissions, driven with a real HTTP
client (urllib), pika, and RabbitMQ's own rabbitmqadmin."""

import base64
import json
import os
import shutil
import socket
import subprocess
import tempfile
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import pika  # noqa: E402
from pika.exceptions import (ChannelClosedByBroker,  # noqa: E402
                             ConnectionClosedByBroker, ProbableAccessDeniedError,
                             ProbableAuthenticationError)

import harness  # noqa: E402
from harness import BrokerTestCase, BrokerUnderTest  # noqa: E402


def q(name):
    return urllib.parse.quote(name, safe='')


class Api:
    def __init__(self, base, user='guest', password='guest'):
        self.base = base.rstrip('/')
        self.user, self.password = user, password

    def call(self, method, path, body=None, auth=True, raw=False):
        data = None
        headers = {}
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            headers['Content-Type'] = 'application/json'
        if auth:
            token = base64.b64encode(
                ('%s:%s' % (self.user, self.password)).encode()).decode()
            headers['Authorization'] = 'Basic ' + token
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                text = resp.read()
                status = resp.status
                hdrs = resp.headers
        except urllib.error.HTTPError as e:
            text = e.read()
            status = e.code
            hdrs = e.headers
        if raw:
            return status, text, hdrs
        return status, (json.loads(text) if text else None), hdrs

    def get(self, path):
        status, body, _ = self.call('GET', path)
        assert status == 200, (path, status, body)
        return body


def find_rabbitmqadmin():
    for candidate in (os.environ.get('RABBITMQADMIN'),
                      os.path.expanduser('~/.cache/burrow/rabbitmqadmin'),
                      '/usr/bin/rabbitmqadmin', shutil.which('rabbitmqadmin')):
        if candidate and os.path.exists(candidate):
            return candidate
    return None


class ManagementTest(BrokerTestCase):

    def setUp(self):
        super().setUp()
        self.assertIsNotNone(self.broker.http_url, 'burrowd printed no http:// URL')
        self.api = Api(self.broker.http_url)

    def connect(self, **overrides):
        return pika.BlockingConnection(self.broker.connection_parameters(**overrides))

    # -- authentication ------------------------------------------------------

    def test_requests_without_credentials_are_challenged(self):
        status, body, headers = self.api.call('GET', '/api/overview', auth=False)
        self.assertEqual(status, 401)
        self.assertIn('Basic realm="RabbitMQ Management"', headers['WWW-Authenticate'])
        bad = Api(self.broker.http_url, 'guest', 'wrong')
        status, body, _ = bad.call('GET', '/api/overview')
        self.assertEqual((status, body), (401, {'error': 'not_authorized',
                                                 'reason': 'Login failed'}))

    def test_overview_and_whoami(self):
        overview = self.api.get('/api/overview')
        self.assertEqual(overview['rabbitmq_version'], '3.10.8')
        self.assertEqual(overview['product_name'], 'Burrow')
        self.assertIn('queues', overview['object_totals'])
        protocols = {l['protocol'] for l in overview['listeners']}
        self.assertEqual(protocols, {'amqp', 'http'})
        self.assertEqual(self.api.get('/api/whoami'),
                         {'name': 'guest', 'tags': ['administrator']})
        nodes = self.api.get('/api/nodes')
        self.assertEqual(len(nodes), 1)
        self.assertTrue(nodes[0]['name'].startswith('burrow@'))
        self.assertGreater(nodes[0]['mem_used'], 0)
        status, body, _ = self.api.call('GET', '/api/no-such-thing')
        self.assertEqual((status, body), (404, {'error': 'Object Not Found',
                                                 'reason': 'Not Found'}))

    # -- queues, exchanges, bindings ----------------------------------------

    def test_queue_lifecycle_and_counts(self):
        name = self.queue_name()
        status, _, _ = self.api.call('PUT', '/api/queues/%2F/' + q(name),
                                     {'durable': 'false', 'auto_delete': False,
                                      'arguments': {'x-max-length': 10}})
        self.assertEqual(status, 201)
        status, _, _ = self.api.call('PUT', '/api/queues/%2F/' + q(name),
                                     {'durable': False, 'arguments': {'x-max-length': 10}})
        self.assertEqual(status, 204)
        status, body, _ = self.api.call('PUT', '/api/queues/%2F/' + q(name),
                                        {'durable': True})
        # RabbitMQ 3.10.8 gives the explanation alone (observed).
        self.assertEqual((status, body), (400, {
            'error': 'bad_request',
            'reason': "inequivalent arg 'durable' for queue '%s' in vhost '/': received "
                      "'true' but current is 'false'" % name}))

        conn = self.connect()
        ch = conn.channel()
        for i in range(3):
            ch.basic_publish('', name, b'm%d' % i)
        method, _, _ = ch.basic_get(name, auto_ack=False)
        self.assertIsNotNone(method)
        queue = self.api.get('/api/queues/%2F/' + q(name))
        self.assertEqual((queue['messages'], queue['messages_ready'],
                          queue['messages_unacknowledged']), (3, 2, 1))
        self.assertEqual(queue['arguments'], {'x-max-length': 10})
        self.assertEqual(queue['message_stats']['publish'], 3)
        self.assertEqual(queue['message_stats']['get'], 1)
        self.assertEqual(queue['type'], 'classic')
        listed = [x['name'] for x in self.api.get('/api/queues/%2F')]
        self.assertIn(name, listed)
        conn.close()

        status, _, _ = self.api.call('DELETE', '/api/queues/%2F/' + q(name) + '/contents')
        self.assertEqual(status, 204)
        self.assertEqual(self.api.get('/api/queues/%2F/' + q(name))['messages_ready'], 0)
        status, _, _ = self.api.call('DELETE', '/api/queues/%2F/' + q(name))
        self.assertEqual(status, 204)
        status, _, _ = self.api.call('GET', '/api/queues/%2F/' + q(name))
        self.assertEqual(status, 404)

    def test_quorum_queue_shows_its_type_and_its_one_member(self):
        name = self.queue_name()
        conn = self.connect()
        ch = conn.channel()
        ch.queue_declare(name, durable=True, arguments={'x-queue-type': 'quorum'})
        conn.close()
        queue = self.api.get('/api/queues/%2F/' + q(name))
        self.assertEqual(queue['type'], 'quorum')
        self.assertEqual(queue['arguments'], {'x-queue-type': 'quorum'})
        self.assertEqual(queue['members'], [queue['leader']])
        self.assertEqual(queue['online'], [queue['leader']])
        classic = self.queue_name()
        self.assertEqual(self.api.call('PUT', '/api/queues/%2F/' + q(classic), {})[0], 201)
        queue = self.api.get('/api/queues/%2F/' + q(classic))
        self.assertEqual(queue['type'], 'classic')
        self.assertNotIn('leader', queue)

    def test_stream_shows_its_type_and_its_one_member(self):
        name = self.queue_name()
        conn = self.connect()
        ch = conn.channel()
        ch.queue_declare(name, durable=True, arguments={'x-queue-type': 'stream'})
        conn.close()
        queue = self.api.get('/api/queues/%2F/' + q(name))
        self.assertEqual(queue['type'], 'stream')
        self.assertEqual(queue['arguments'], {'x-queue-type': 'stream'})
        self.assertEqual(queue['members'], [queue['leader']])
        self.assertEqual(queue['online'], [queue['leader']])

    def test_exchanges_and_bindings(self):
        x = self.exchange_name()
        name = self.queue_name()
        self.assertEqual(self.api.call('PUT', '/api/exchanges/%2F/' + q(x),
                                       {'type': 'topic', 'durable': False})[0], 201)
        # Without a type or durable: RabbitMQ's defaults, direct and not durable.
        self._exchanges.append(x + 'b')
        self.assertEqual(self.api.call('PUT', '/api/exchanges/%2F/' + q(x + 'b'), {})[0], 201)
        made = self.api.get('/api/exchanges/%2F/' + q(x + 'b'))
        self.assertEqual((made['type'], made['durable'], made['incoming']),
                         ('direct', False, []))
        # Refusals as RabbitMQ words them over HTTP.
        self.assertEqual(self.api.call('PUT', '/api/exchanges/%2F/amq.foo', {'type': 'direct'})[:2],
                         (401, {'error': 'not_authorised', 'reason': 'Access refused.'}))
        self.assertEqual(self.api.call('PUT', '/api/exchanges/%2F/' + q(x + 'c'),
                                       {'type': 'nosuchtype'})[:2],
                         (400, {'error': 'bad_request',
                                'reason': "unknown exchange type 'nosuchtype'"}))
        self.assertEqual(self.api.call('POST', '/api/exchanges/%2F/nosuchx/publish',
                                       {'routing_key': 'k', 'payload': 'x',
                                        'payload_encoding': 'string', 'properties': {}})[:2],
                         (400, {'error': 'bad_request',
                                'reason': "404 NOT_FOUND - no exchange 'nosuchx' in vhost '/'"}))
        self.assertEqual(self.api.call('PUT', '/api/permissions/%2F/guest',
                                       {'configure': '.*'})[:2],
                         (400, {'error': 'bad_request',
                                'reason': '[{key_missing,write},{key_missing,read}]'}))
        self.api.call('PUT', '/api/queues/%2F/' + q(name), {'durable': False})
        status, _, headers = self.api.call(
            'POST', '/api/bindings/%%2F/e/%s/q/%s' % (q(x), q(name)),
            {'routing_key': 'a.#', 'arguments': {}})
        self.assertEqual(status, 201)
        self.assertEqual(headers['Location'], 'a.%23')
        bindings = self.api.get('/api/queues/%2F/' + q(name) + '/bindings')
        self.assertEqual([(b['source'], b['routing_key']) for b in bindings],
                         [('', name), (x, 'a.#')])
        exchanges = {e['name']: e for e in self.api.get('/api/exchanges/%2F')}
        self.assertEqual(exchanges[x]['type'], 'topic')
        self.assertIn('', exchanges)
        self.assertIn('amq.topic', exchanges)

        # A message published through the API is routed by the binding.
        status, body, _ = self.api.call(
            'POST', '/api/exchanges/%2F/' + q(x) + '/publish',
            {'routing_key': 'a.b', 'payload': 'hello', 'payload_encoding': 'string',
             'properties': {'headers': {'h': 1}, 'delivery_mode': 2}})
        self.assertEqual((status, body), (200, {'routed': True}))
        status, body, _ = self.api.call(
            'POST', '/api/exchanges/%2F/' + q(x) + '/publish',
            {'routing_key': 'nowhere', 'payload': 'x', 'payload_encoding': 'string',
             'properties': {}})
        self.assertEqual((status, body), (200, {'routed': False}))
        got = self.api.call('POST', '/api/queues/%2F/' + q(name) + '/get',
                            {'count': 5, 'ackmode': 'ack_requeue_true',
                             'encoding': 'auto'})[1]
        self.assertEqual(len(got), 1)
        self.assertEqual(got[0]['payload'], 'hello')
        self.assertEqual(got[0]['routing_key'], 'a.b')
        self.assertEqual(got[0]['properties'], {'headers': {'h': 1}, 'delivery_mode': 2})
        # ack_requeue_true put it back; it comes back redelivered.
        got = self.api.call('POST', '/api/queues/%2F/' + q(name) + '/get',
                            {'count': 1, 'ackmode': 'ack_requeue_false',
                             'encoding': 'base64'})[1]
        self.assertEqual(got[0]['redelivered'], True)
        self.assertEqual(base64.b64decode(got[0]['payload']), b'hello')
        self.assertEqual(self.api.get('/api/queues/%2F/' + q(name))['messages'], 0)

        # The properties key is a path segment of its own, so it is quoted once more.
        props = [b for b in bindings if b['source'] == x][0]['properties_key']
        self.assertEqual(props, 'a.%23')
        status, _, _ = self.api.call(
            'DELETE', '/api/bindings/%%2F/e/%s/q/%s/%s' % (q(x), q(name), q(props)))
        self.assertEqual(status, 204)
        self.assertEqual(len(self.api.get('/api/queues/%2F/' + q(name) + '/bindings')), 1)

    # -- connections ----------------------------------------------------------

    def test_connections_are_listed_and_can_be_closed(self):
        conn = self.connect(client_properties={'connection_name': 'mgmt-test'})
        ch = conn.channel()
        ch.basic_qos(prefetch_count=7)
        name = self.queue_name()
        ch.queue_declare(name)
        ch.basic_consume(name, lambda *a: None)
        deadline = time.monotonic() + 5
        mine = []
        while time.monotonic() < deadline and not mine:
            mine = [c for c in self.api.get('/api/connections')
                    if c.get('user_provided_name') == 'mgmt-test']
        self.assertEqual(len(mine), 1)
        c = mine[0]
        self.assertEqual((c['user'], c['vhost'], c['channels']), ('guest', '/', 1))
        self.assertEqual(c['client_properties']['connection_name'], 'mgmt-test')
        channels = self.api.get('/api/connections/%s/channels' % q(c['name']))
        self.assertEqual(channels[0]['prefetch_count'], 7)
        self.assertEqual(channels[0]['consumer_count'], 1)
        consumers = [x for x in self.api.get('/api/consumers/%2F')
                     if x['queue']['name'] == name]
        self.assertEqual(len(consumers), 1)
        self.assertTrue(consumers[0]['ack_required'])

        status, _, _ = self.api.call('DELETE', '/api/connections/' + q(c['name']))
        self.assertEqual(status, 204)
        with self.assertRaises(ConnectionClosedByBroker) as cm:
            conn.process_data_events(time_limit=5)
            conn.process_data_events(time_limit=5)
        self.assertEqual(cm.exception.reply_code, 320)
        self.assertEqual(cm.exception.reply_text,
                         'CONNECTION_FORCED - Closed via management plugin')

    # -- users, vhosts, permissions ------------------------------------------

    def test_permissions_are_enforced_over_amqp(self):
        vhost = 'burrow-test-vhost-%d' % os.getpid()
        self.assertEqual(self.api.call('PUT', '/api/vhosts/' + q(vhost), {})[0], 201)
        self.addCleanup(self.api.call, 'DELETE', '/api/vhosts/' + q(vhost))
        self.assertEqual(self.api.call('PUT', '/api/users/alice',
                                       {'password': 's3cret', 'tags': ''})[0], 201)
        self.addCleanup(self.api.call, 'DELETE', '/api/users/alice')
        self.assertEqual(self.api.call('PUT', '/api/permissions/%s/alice' % q(vhost),
                                       {'configure': '^alice-', 'write': '^(alice-|amq\\.default)',
                                        'read': '^alice-'})[0], 201)
        user = self.api.get('/api/users/alice')
        self.assertEqual(user['hashing_algorithm'], 'rabbit_password_hashing_sha256')
        self.assertEqual(len(base64.b64decode(user['password_hash'])), 36)

        params = pika.ConnectionParameters(
            self.broker.host, self.broker.port, vhost,
            pika.PlainCredentials('alice', 's3cret'))
        conn = pika.BlockingConnection(params)
        ch = conn.channel()
        ch.queue_declare('alice-q')
        ch.basic_publish('', 'alice-q', b'hi')
        with self.assertRaises(ChannelClosedByBroker) as cm:
            ch.queue_declare('bob-q')
        self.assertEqual(cm.exception.reply_code, 403)
        self.assertEqual(cm.exception.reply_text,
                         "ACCESS_REFUSED - access to queue 'bob-q' in vhost '%s' "
                         "refused for user 'alice'" % vhost)
        ch = conn.channel()
        with self.assertRaises(ChannelClosedByBroker) as cm:
            ch.basic_publish('amq.fanout', '', b'no')
            ch.queue_declare('alice-q', passive=True)
        self.assertEqual(cm.exception.reply_text,
                         "ACCESS_REFUSED - access to exchange 'amq.fanout' in vhost '%s' "
                         "refused for user 'alice'" % vhost)
        conn.close()

        # The vhosts are isolated: alice's queue is not in "/".
        self.assertEqual(self.api.call('GET', '/api/queues/%2F/alice-q')[0], 404)
        self.assertEqual(self.api.get('/api/queues/%s/alice-q' % q(vhost))['messages'], 1)

        # No permissions on "/": the connection is refused with 530.
        params = pika.ConnectionParameters(self.broker.host, self.broker.port, '/',
                                           pika.PlainCredentials('alice', 's3cret'))
        with self.assertRaises(ProbableAccessDeniedError):
            pika.BlockingConnection(params)
        # A wrong password.
        params = pika.ConnectionParameters(self.broker.host, self.broker.port, vhost,
                                           pika.PlainCredentials('alice', 'nope'))
        with self.assertRaises(ProbableAuthenticationError):
            pika.BlockingConnection(params)
        # alice has no management tag.
        status, body, _ = Api(self.broker.http_url, 'alice', 's3cret').call('GET', '/api/queues')
        self.assertEqual((status, body['reason']), (401, 'Not management user'))

    def test_deleting_a_vhost_removes_its_contents_and_closes_its_connections(self):
        vhost = 'burrow-test-doomed-%d' % os.getpid()
        self.api.call('PUT', '/api/vhosts/' + q(vhost), {'description': 'temp'})
        self.assertEqual(self.api.get('/api/vhosts/' + q(vhost))['description'], 'temp')
        conn = pika.BlockingConnection(pika.ConnectionParameters(
            self.broker.host, self.broker.port, vhost, pika.PlainCredentials('guest', 'guest')))
        conn.channel().queue_declare('doomed')
        self.assertEqual(self.api.call('DELETE', '/api/vhosts/' + q(vhost))[0], 204)
        with self.assertRaises(ConnectionClosedByBroker) as cm:
            conn.process_data_events(time_limit=5)
            conn.process_data_events(time_limit=5)
        self.assertEqual(cm.exception.reply_code, 320)
        self.assertEqual(self.api.call('GET', '/api/vhosts/' + q(vhost))[0], 404)
        self.assertNotIn(vhost, [v['name'] for v in self.api.get('/api/vhosts')])

    # -- definitions -----------------------------------------------------------

    def test_definitions_export_and_import_into_a_fresh_broker(self):
        x = self.exchange_name()
        name = self.queue_name()
        self.api.call('PUT', '/api/exchanges/%2F/' + q(x), {'type': 'fanout'})
        self.api.call('PUT', '/api/queues/%2F/' + q(name),
                      {'durable': True, 'arguments': {'x-message-ttl': 5000}})
        self.api.call('POST', '/api/bindings/%%2F/e/%s/q/%s' % (q(x), q(name)),
                      {'routing_key': 'k'})
        self.api.call('PUT', '/api/users/carol', {'password': 'pw', 'tags': 'monitoring'})
        self.addCleanup(self.api.call, 'DELETE', '/api/users/carol')
        exported = self.api.get('/api/definitions')
        self.assertIn({'name': name, 'vhost': '/', 'durable': True, 'auto_delete': False,
                       'arguments': {'x-message-ttl': 5000}}, exported['queues'])
        self.assertFalse([e for e in exported['exchanges'] if e['name'].startswith('amq.')])

        fresh = BrokerUnderTest()
        try:
            api2 = Api(fresh.http_url)
            status, _, _ = api2.call('POST', '/api/definitions', json.dumps(exported).encode())
            self.assertEqual(status, 204)
            self.assertEqual(api2.get('/api/queues/%2F/' + q(name))['arguments'],
                             {'x-message-ttl': 5000})
            self.assertEqual(api2.get('/api/exchanges/%2F/' + q(x))['type'], 'fanout')
            bindings = api2.get('/api/exchanges/%2F/' + q(x) + '/bindings/source')
            self.assertEqual([(b['destination'], b['routing_key']) for b in bindings],
                             [(name, 'k')])
            # carol's password hash came along: she can log in to the new broker.
            self.assertEqual(Api(fresh.http_url, 'carol', 'pw').call('GET', '/api/whoami')[0],
                             200)
            status, body, _ = api2.call('POST', '/api/definitions', b'{not json')
            self.assertEqual((status, body['reason']), (400, 'failed_to_parse_json'))
        finally:
            fresh.stop()

    # -- health and metrics ------------------------------------------------------

    def test_health_checks(self):
        self.assertEqual(self.api.get('/api/health/checks/alarms'), {'status': 'ok'})
        self.assertEqual(self.api.get('/api/aliveness-test/%2F'), {'status': 'ok'})

    def metric(self, text, name):
        for line in text.splitlines():
            if line.startswith(name + ' ') or line.startswith(name + '{'):
                return float(line.rsplit(' ', 1)[1])
        self.fail('no metric %s' % name)

    def test_prometheus_metrics_move_with_traffic(self):
        status, text, headers = self.api.call('GET', '/metrics', auth=False, raw=True)
        self.assertEqual(status, 200)
        self.assertTrue(headers['Content-Type'].startswith('text/plain'))
        before = text.decode()
        name = self.queue_name()
        conn = self.connect()
        ch = conn.channel()
        ch.queue_declare(name)
        for _ in range(5):
            ch.basic_publish('', name, b'x')
        method, _, _ = ch.basic_get(name, auto_ack=False)
        ch.basic_ack(method.delivery_tag)
        # basic.ack has no reply: wait until the broker has counted it.
        deadline = time.monotonic() + 10
        while True:
            _, text, _ = self.api.call('GET', '/metrics', auth=False, raw=True)
            after = text.decode()
            acked = (self.metric(after, 'burrow_queue_messages_acked_total')
                     - self.metric(before, 'burrow_queue_messages_acked_total'))
            if acked >= 1 or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        self.assertEqual(self.metric(after, 'rabbitmq_queue_messages_published_total')
                         - self.metric(before, 'rabbitmq_queue_messages_published_total'), 5)
        self.assertGreaterEqual(self.metric(after, 'rabbitmq_connections'), 1)
        self.assertEqual(self.metric(after, 'burrow_queue_messages_acked_total')
                         - self.metric(before, 'burrow_queue_messages_acked_total'), 1)
        _, text, _ = self.api.call('GET', '/metrics/per-object', auth=False, raw=True)
        line = 'rabbitmq_queue_messages_ready{vhost="/",queue="%s"} 4' % name
        self.assertIn(line, text.decode())
        conn.close()


class ResetTest(BrokerTestCase):
    """POST /api/burrow/reset: one broker reused by a whole suite."""

    def test_reset_returns_the_broker_to_its_initial_state(self):
        api = Api(self.broker.http_url)
        vhost = 'burrow-test-reset-%d' % os.getpid()
        api.call('PUT', '/api/vhosts/' + q(vhost), {})
        api.call('PUT', '/api/users/temp', {'password': 'pw', 'tags': ''})
        conn = pika.BlockingConnection(self.broker.connection_parameters())
        ch = conn.channel()
        ch.exchange_declare('reset-x', 'topic')
        ch.queue_declare('reset-q', durable=True)
        ch.queue_bind('reset-q', 'reset-x', '#')
        ch.exchange_bind('amq.fanout', 'amq.direct', 'k')
        for _ in range(10):
            ch.basic_publish('reset-x', 'a', b'x')
        ch.queue_declare('reset-q', passive=True)
        started = time.monotonic()
        status, _, _ = api.call('POST', '/api/burrow/reset')
        took = time.monotonic() - started
        self.assertEqual(status, 204)
        with self.assertRaises(ConnectionClosedByBroker) as cm:
            conn.process_data_events(time_limit=5)
            conn.process_data_events(time_limit=5)
        self.assertEqual(cm.exception.reply_text, 'CONNECTION_FORCED - broker reset')
        self.assertEqual(api.get('/api/queues'), [])
        self.assertEqual([v['name'] for v in api.get('/api/vhosts')], ['/'])
        self.assertEqual([u['name'] for u in api.get('/api/users')], ['guest'])
        self.assertEqual(sorted(x['name'] for x in api.get('/api/exchanges/%2F')),
                         ['', 'amq.direct', 'amq.fanout', 'amq.headers', 'amq.match',
                          'amq.rabbitmq.trace', 'amq.topic'])
        self.assertEqual(api.get('/api/bindings/%2F'), [])
        self.assertEqual([p['user'] for p in api.get('/api/permissions')], ['guest'])
        # The broker works as before.
        conn = pika.BlockingConnection(self.broker.connection_parameters())
        ch = conn.channel()
        ch.queue_declare('reset-q')
        self.assertEqual(ch.queue_declare('reset-q', passive=True).method.message_count, 0)
        conn.close()
        print('reset took %.1f ms' % (took * 1000), file=sys.stderr)


class PrometheusPortTest(BrokerTestCase):
    """--prometheus-port: /metrics alone on its own port, as rabbitmq_prometheus's 15692."""

    burrowd_args = ('--prometheus-port', '0')

    def test_metrics_only(self):
        url = [u for u in self.broker.urls if u.endswith('/metrics')]
        self.assertEqual(len(url), 1, self.broker.urls)
        base = url[0][:-len('/metrics')]
        status, text, _ = Api(base).call('GET', '/metrics', auth=False, raw=True)
        self.assertEqual(status, 200)
        self.assertIn('rabbitmq_queues ', text.decode())
        status, _, _ = Api(base).call('GET', '/api/overview', raw=True)
        self.assertEqual(status, 404)


class LimitsTest(BrokerTestCase):
    """--max-connections, --channel-max and --max-message-size, with RabbitMQ's errors."""

    burrowd_args = ('--max-connections', '2', '--channel-max', '3',
                    '--max-message-size', '1000', '--handshake-timeout', '500')

    def test_handshake_timeout(self):
        # A client that connects and says nothing is disconnected after --handshake-timeout.
        sock = socket.create_connection((self.broker.host, self.broker.port), timeout=10)
        started = time.monotonic()
        self.assertEqual(sock.recv(100), b'')
        elapsed = time.monotonic() - started
        sock.close()
        self.assertGreaterEqual(elapsed, 0.4)
        self.assertLess(elapsed, 5)

    def test_connection_limit(self):
        a = pika.BlockingConnection(self.broker.connection_parameters())
        b = pika.BlockingConnection(self.broker.connection_parameters())
        with self.assertRaises(pika.exceptions.AMQPConnectionError) as cm:
            pika.BlockingConnection(self.broker.connection_parameters())
        self.assertIn('node connection limit (2) is reached', repr(cm.exception))
        a.close()
        c = harness.connect_when_allowed(
            lambda: pika.BlockingConnection(self.broker.connection_parameters()))
        c.close()
        b.close()

    def test_channel_max_and_message_size(self):
        conn = pika.BlockingConnection(self.broker.connection_parameters())
        self.assertEqual(conn._impl.params.channel_max, 3)
        ch = conn.channel()
        name = self.queue_name()
        ch.queue_declare(name)
        ch.basic_publish('', name, b'x' * 1000)
        with self.assertRaises(ChannelClosedByBroker) as cm:
            ch.basic_publish('', name, b'x' * 1001)
            ch.queue_declare(name, passive=True)
        self.assertEqual(cm.exception.reply_code, 406)
        self.assertEqual(cm.exception.reply_text,
                         'PRECONDITION_FAILED - message size 1001 is larger than configured '
                         'max size 1000')
        conn.close()


class VhostLimitsTest(BrokerTestCase):
    """Vhost limits (max-queues, max-connections) set over the management API, enforced over
    AMQP with RabbitMQ 3.10.8's codes and texts. Runs against RabbitMQ too
    (AMQP_URL_UNDER_TEST and HTTP_URL_UNDER_TEST); each test uses its own vhost."""

    def setUp(self):
        super().setUp()
        self.assertIsNotNone(self.broker.http_url, 'no management URL')
        self.api = Api(self.broker.http_url)
        self.vhost = 'burrow-test.limits.' + self._testMethodName
        self.assertIn(self.api.call('PUT', '/api/vhosts/' + q(self.vhost), {})[0], (201, 204))
        self.addCleanup(self.api.call, 'DELETE', '/api/vhosts/' + q(self.vhost))
        self.assertIn(self.api.call('PUT', '/api/permissions/%s/guest' % q(self.vhost),
                                    {'configure': '.*', 'write': '.*', 'read': '.*'})[0],
                      (201, 204))

    def connect(self):
        return pika.BlockingConnection(
            self.broker.connection_parameters(virtual_host=self.vhost))

    def set_limit(self, name, value):
        status, body, _ = self.api.call(
            'PUT', '/api/vhost-limits/%s/%s' % (q(self.vhost), name), {'value': value})
        self.assertEqual(status, 204, body)

    def test_max_queues(self):
        self.set_limit('max-queues', 2)
        conn = self.connect()
        ch = conn.channel()
        ch.queue_declare('lq1')
        ch.queue_declare('lq2')
        with self.assertRaises(ChannelClosedByBroker) as cm:
            ch.queue_declare('lq3')
        self.assertEqual(cm.exception.reply_code, 406)
        self.assertEqual(cm.exception.reply_text,
                         "PRECONDITION_FAILED - cannot declare queue 'lq3': queue limit in "
                         "vhost '%s' (2) is reached" % self.vhost)
        ch = conn.channel()
        ch.queue_declare('lq1')  # redeclaring an existing queue is fine at the limit
        with self.assertRaises(ChannelClosedByBroker) as cm:
            ch.queue_declare('', exclusive=True)
        self.assertRegex(cm.exception.reply_text,
                         r"^PRECONDITION_FAILED - cannot declare queue 'amq\.gen-[^']+': "
                         r"queue limit in vhost '[^']+' \(2\) is reached$")
        ch = conn.channel()
        ch.queue_delete('lq2')
        ch.queue_declare('lq3')  # a deleted queue frees its place
        self.set_limit('max-queues', -1)  # negative: no limit
        ch.queue_declare('lq4')
        conn.close()

    def test_max_connections(self):
        self.set_limit('max-connections', 2)
        a = self.connect()
        b = self.connect()
        with self.assertRaises(pika.exceptions.AMQPConnectionError) as cm:
            self.connect()
        self.assertIn("NOT_ALLOWED - access to vhost '%s' refused for user 'guest': "
                      "connection limit (2) is reached" % self.vhost,
                      repr(cm.exception).replace("\\'", "'"))
        a.close()
        c = harness.connect_when_allowed(self.connect)
        c.close()
        b.close()

    def test_limits_api(self):
        path = '/api/vhost-limits/' + q(self.vhost)
        self.assertEqual(self.api.get(path), [])
        self.set_limit('max-queues', 5)
        self.set_limit('max-connections', 0)
        self.assertEqual(self.api.get(path), [{'vhost': self.vhost,
                                               'value': {'max-queues': 5,
                                                         'max-connections': 0}}])
        self.assertIn({'vhost': self.vhost,
                       'value': {'max-queues': 5, 'max-connections': 0}},
                      self.api.get('/api/vhost-limits'))
        status, body, _ = self.api.call('PUT', path + '/max-queues', {'value': 'x'})
        self.assertEqual((status, body['reason']), (400, 'Validation failed\n\nmax-queues '
                                                         'should be a number, actually was '
                                                         '<<"x">>\n'))
        status, body, _ = self.api.call('PUT', path + '/max-queues', {'value': 2.5})
        self.assertEqual(status, 400)
        status, body, _ = self.api.call('PUT', path + '/max-foo', {'value': 5})
        self.assertEqual((status, body['reason']),
                         (400, 'Validation failed\n\nUnrecognised terms '
                               '[{<<"max-foo">>,5}] in limits\n'))
        status, body, _ = self.api.call('PUT', path + '/max-queues', {})
        self.assertEqual((status, body['reason']), (400, '[{key_missing,value}]'))
        self.assertEqual(self.api.call('DELETE', path + '/max-queues')[0], 204)
        self.assertEqual(self.api.get(path), [{'vhost': self.vhost,
                                               'value': {'max-connections': 0}}])
        status, _, _ = self.api.call('GET', '/api/vhost-limits/no-such-vhost')
        self.assertEqual(status, 404)


class ConsumerLimitTest(BrokerTestCase):
    """--consumer-max-per-channel (RabbitMQ 3.12's consumer_max_per_channel: 3.10 has no such
    limit, so this runs against burrowd only)."""

    burrowd_args = ('--consumer-max-per-channel', '2')

    def test_consume_past_the_limit_closes_the_connection_with_530(self):
        if os.environ.get('AMQP_URL_UNDER_TEST'):
            self.skipTest('RabbitMQ 3.10 has no consumers-per-channel limit')
        conn = pika.BlockingConnection(self.broker.connection_parameters())
        ch = conn.channel()
        name = self.queue_name()
        ch.queue_declare(name)
        ch.basic_consume(name, lambda *a: None)
        ch.basic_consume(name, lambda *a: None)
        other = conn.channel()
        other.basic_consume(name, lambda *a: None)  # the limit is per channel
        with self.assertRaises(ConnectionClosedByBroker) as cm:
            ch.basic_consume(name, lambda *a: None)
        self.assertEqual(cm.exception.reply_code, 530)
        self.assertEqual(cm.exception.reply_text,
                         'NOT_ALLOWED - reached maximum (2) of consumers per channel')
        conn = pika.BlockingConnection(self.broker.connection_parameters())
        conn.channel().queue_declare(name, passive=True)  # the broker carries on
        conn.close()


class DiskAlarmTest(BrokerTestCase):
    """--disk-free-limit above the free space of the data directory: the disk alarm is on
    from the start, and clears when the limit is lowered."""

    data_dir = tempfile.mkdtemp(prefix='burrow-disk-alarm-')
    burrowd_args = ('--data-dir', data_dir, '--disk-free-limit', str(2 ** 62))

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        shutil.rmtree(cls.data_dir, ignore_errors=True)

    def test_disk_alarm(self):
        api = Api(self.broker.http_url)
        status, body, _ = api.call('GET', '/api/health/checks/alarms')
        self.assertEqual(status, 503)
        self.assertEqual(body['alarms'], [{'resource': 'disk',
                                           'node': api.get('/api/nodes')[0]['name']}])
        self.assertTrue(api.get('/api/nodes')[0]['disk_free_alarm'])
        pub = pika.BlockingConnection(self.broker.connection_parameters())
        events = []
        pub.add_on_connection_blocked_callback(
            lambda conn, frame: events.append(frame.method.reason))
        ch = pub.channel()
        ch.basic_publish('', 'nowhere', b'x')
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not events:
            pub.process_data_events(time_limit=0.2)
        self.assertEqual(events, ['low on disk'])
        api.call('PUT', '/api/burrow/alarms', {'disk_free_limit': 1})
        self.assertEqual(api.get('/api/health/checks/alarms'), {'status': 'ok'})
        pub.close()


class AlarmTest(BrokerTestCase):
    """The memory alarm blocks publishing connections; consumers keep draining."""

    def test_memory_alarm_blocks_publishers_until_it_clears(self):
        api = Api(self.broker.http_url)
        name = self.queue_name()
        pub = pika.BlockingConnection(self.broker.connection_parameters())
        events = []
        pub.add_on_connection_blocked_callback(
            lambda conn, frame: events.append(('blocked', frame.method.reason)))
        pub.add_on_connection_unblocked_callback(lambda conn, frame: events.append(('unblocked',)))
        pch = pub.channel()
        pch.queue_declare(name)
        pch.basic_publish('', name, b'before')
        pch.queue_declare(name, passive=True)  # a round trip: 'before' is in the queue
        cons = pika.BlockingConnection(self.broker.connection_parameters())
        cch = cons.channel()

        status, body, _ = api.call('PUT', '/api/burrow/alarms',
                                   {'vm_memory_high_watermark': {'absolute': 1}})
        self.assertEqual(status, 200)
        self.assertTrue(body['memory_alarm'])
        status, body, _ = api.call('GET', '/api/health/checks/alarms')
        self.assertEqual(status, 503)
        self.assertEqual(body['alarms'][0]['resource'], 'memory')
        self.assertEqual(body['reason'], 'There are alarms in effect in the cluster')

        # The publisher is blocked at its next publish; the message waits on the socket.
        pch.basic_publish('', name, b'during')
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not events:
            pub.process_data_events(time_limit=0.2)
        self.assertEqual(events, [('blocked', 'low on memory')])
        states = {c['user_provided_name'] if 'user_provided_name' in c else c['name']: c['state']
                  for c in api.get('/api/connections')}
        self.assertIn('blocked', states.values())
        _, text, _ = api.call('GET', '/metrics', auth=False, raw=True)
        self.assertIn('rabbitmq_alarms_memory_used_watermark 1', text.decode())

        # A consumer that never published still drains the queue.
        method, _, body_bytes = cch.basic_get(name, auto_ack=True)
        self.assertEqual(body_bytes, b'before')
        self.assertIsNone(cch.basic_get(name, auto_ack=True)[0])

        api.call('PUT', '/api/burrow/alarms', {'vm_memory_high_watermark': 0.99})
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and len(events) < 2:
            pub.process_data_events(time_limit=0.2)
        self.assertEqual(events[1:], [('unblocked',)])
        got = None
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and got is None:
            got = cch.basic_get(name, auto_ack=True)[2]
        self.assertEqual(got, b'during')
        self.assertEqual(api.get('/api/health/checks/alarms'), {'status': 'ok'})
        pub.close()
        cons.close()


class RabbitmqadminTest(BrokerTestCase):
    """RabbitMQ's own command-line tool against burrowd."""

    def setUp(self):
        super().setUp()
        self.tool = find_rabbitmqadmin()
        self.assertIsNotNone(self.tool, 'rabbitmqadmin not found (scripts/install-deps.sh '
                                        'puts it in ~/.cache/burrow)')
        url = urllib.parse.urlparse(self.broker.http_url)
        self.base = ['/usr/bin/python3', self.tool, '-H', url.hostname, '-P', str(url.port),
                     '-u', 'guest', '-p', 'guest']

    def run_tool(self, *args):
        out = subprocess.run(self.base + list(args), capture_output=True, text=True, timeout=30)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        return out.stdout

    def test_declare_list_publish_get_export_import(self):
        name = self.queue_name()
        self.run_tool('declare', 'queue', 'name=' + name, 'durable=false')
        self.assertIn(name, self.run_tool('list', 'queues'))
        out = self.run_tool('publish', 'routing_key=' + name, 'payload=from-admin')
        self.assertIn('Message published', out)
        self.assertIn('from-admin', self.run_tool('get', 'queue=' + name))
        for what in ('exchanges', 'bindings', 'connections', 'vhosts', 'users', 'channels',
                     'consumers', 'nodes'):
            self.run_tool('list', what)
        self.run_tool('show', 'overview')
        path = os.path.join(harness_tmp(), 'defs.json')
        self.run_tool('export', path)
        with open(path) as f:
            self.assertIn(name, [x['name'] for x in json.load(f)['queues']])
        self.run_tool('delete', 'queue', 'name=' + name)
        self.assertNotIn(name, self.run_tool('list', 'queues'))
        self.run_tool('import', path)
        self.assertIn(name, self.run_tool('list', 'queues'))
        self.run_tool('purge', 'queue', 'name=' + name)


def harness_tmp():
    import tempfile
    return tempfile.mkdtemp(prefix='burrow-mgmt-')


if __name__ == '__main__':
    harness.main()
