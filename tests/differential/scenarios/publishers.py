"""Publishers: confirms, mandatory, immediate (540), user_id validation,
CC/BCC sender-selected routing, channel.flow, message properties."""

import pika.spec as spec

from ._util import conn_ch, attempt, probe, long_


def scenario_confirm_sequence(t):
    """confirm.select then publishes: acks for routed, unroutable and
    returned messages, raw so delivery tags and multiple are visible."""
    r = t.raw()
    r.open_channel(1)
    q = t.name('q')
    r.call(1, spec.Queue.Declare(queue=q), 'queue.declare-ok')
    r.call(1, spec.Confirm.Select(), 'confirm.select-ok')
    r.send(1, spec.Basic.Publish(exchange='', routing_key=q),
           spec.BasicProperties(), b'm1')
    r.read(until={'basic.ack'})
    r.send(1, spec.Basic.Publish(exchange='', routing_key=t.name('none')),
           spec.BasicProperties(), b'm2')
    r.read(until={'basic.ack'})
    r.send(1, spec.Basic.Publish(exchange='', routing_key=t.name('none'),
                                 mandatory=True),
           spec.BasicProperties(), b'm3')
    r.read(until={'basic.ack'})
    r.call(1, spec.Confirm.Select(), 'confirm.select-ok')


def scenario_confirm_select_nowait(t):
    """confirm.select nowait: no select-ok, acks still sent."""
    r = t.raw()
    r.open_channel(1)
    r.send(1, spec.Confirm.Select(nowait=True))
    r.send(1, spec.Basic.Publish(exchange='amq.direct', routing_key='none'),
           spec.BasicProperties(), b'm')
    r.read(until={'basic.ack'})


def scenario_mandatory_return_before_ack(t):
    """basic.return precedes the basic.ack of the same publish (raw)."""
    r = t.raw()
    r.open_channel(1)
    r.call(1, spec.Confirm.Select(), 'confirm.select-ok')
    r.send(1, spec.Basic.Publish(exchange='amq.direct',
                                 routing_key=t.name('nokey'),
                                 mandatory=True),
           spec.BasicProperties(message_id='mid'), b'body')
    r.read(until={'basic.ack'})


def scenario_immediate_540(t):
    """basic.publish immediate=true is a connection error 540."""
    r = t.raw()
    r.open_channel(1)
    q = t.name('q')
    r.call(1, spec.Queue.Declare(queue=q), 'queue.declare-ok')
    r.send(1, spec.Basic.Publish(exchange='', routing_key=q, immediate=True),
           spec.BasicProperties(), b'm')
    r.read(until={'connection.close'})


def scenario_user_id(t):
    """user_id must equal the authenticated user."""
    c, ch = conn_ch(t, confirm=True)
    q = t.name('q')
    ch.queue_declare(q)
    ch.publish('', q, 'mine', user_id='guest')
    ch.get(q, auto_ack=True)
    ch.publish('', q, 'theirs', user_id='mallory')
    c2, ch2 = conn_ch(t)
    ch2.publish('', q, 'theirs', user_id='Guest')
    ch2.sync()
    c3, ch3 = conn_ch(t)
    ch3.publish('', t.name('noqueue'), 'unroutable', user_id='')
    ch3.sync()


def scenario_cc_routing(t):
    """CC adds routing keys; the header is delivered."""
    c, ch = conn_ch(t, confirm=True)
    x = t.name('x')
    ch.exchange_declare(x, 'direct')
    qs = []
    for k in ('a', 'b', 'c'):
        q = t.name('q' + k)
        qs.append(q)
        ch.queue_declare(q)
        ch.queue_bind(q, x, k)
    probe(t, ch, x, 'a', qs, body='cc-b', headers={'CC': ['b']})
    probe(t, ch, x, 'z', qs, body='cc-bc', headers={'CC': ['b', 'c', 'b']})
    probe(t, ch, x, 'a', qs, body='cc-a', headers={'CC': ['a']})


def scenario_bcc_routing(t):
    """BCC adds routing keys and is removed before delivery."""
    c, ch = conn_ch(t, confirm=True)
    x = t.name('x')
    ch.exchange_declare(x, 'direct')
    qa, qb = t.name('qa'), t.name('qb')
    for q, k in ((qa, 'a'), (qb, 'b')):
        ch.queue_declare(q)
        ch.queue_bind(q, x, k)
    probe(t, ch, x, 'a', [qa, qb], body='bcc',
          headers={'BCC': ['b'], 'other': 'kept'})
    probe(t, ch, x, 'none', [qa, qb], body='only-bcc', headers={'BCC': ['a']})
    probe(t, ch, x, 'a', [qa, qb], body='both',
          headers={'CC': ['b'], 'BCC': ['b']})


def scenario_cc_default_exchange(t):
    """CC/BCC on the default exchange name queues."""
    c, ch = conn_ch(t, confirm=True)
    q1, q2 = t.name('q1'), t.name('q2')
    ch.queue_declare(q1)
    ch.queue_declare(q2)
    probe(t, ch, '', q1, [q1, q2], body='cc', headers={'CC': [q2]})
    probe(t, ch, '', t.name('none'), [q1, q2], body='bcc-only',
          headers={'BCC': [q2]})


def scenario_cc_topic_and_fanout(t):
    """CC keys are matched by topic patterns; fanout ignores them."""
    c, ch = conn_ch(t, confirm=True)
    tx, fx = t.name('tx'), t.name('fx')
    ch.exchange_declare(tx, 'topic')
    ch.exchange_declare(fx, 'fanout')
    q1, q2 = t.name('q1'), t.name('q2')
    ch.queue_declare(q1)
    ch.queue_declare(q2)
    ch.queue_bind(q1, tx, 'a.*')
    ch.queue_bind(q2, tx, '#.z')
    ch.queue_bind(q1, fx, '')
    probe(t, ch, tx, 'b', [q1, q2], body='topic',
          headers={'CC': ['a.x', 'y.z']})
    probe(t, ch, fx, 'k', [q1, q2], body='fanout', headers={'CC': ['k2']})


def scenario_cc_invalid_types(t):
    """CC/BCC values that are not arrays of strings."""
    c = t.connect()
    q = t.name('q')
    setup = c.channel()
    setup.queue_declare(q)
    for headers in ({'CC': 'single'}, {'BCC': long_(1)},
                    {'CC': [long_(1)]}, {'CC': []}):
        ch = c.channel()
        ch.confirm_select()
        ch.publish('', q, 'm', headers=headers)
    check = c.channel()
    check.get_all(q)


def scenario_cc_mandatory_returned(t):
    """A mandatory message routed by no key (CC included) is returned with
    its headers (BCC still present?)."""
    c, ch = conn_ch(t, confirm=True)
    ch.publish('amq.direct', t.name('nokey'), 'm', mandatory=True,
               headers={'CC': [t.name('cc')], 'BCC': [t.name('bcc')]})


def scenario_flow_540(t):
    """channel.flow active=false is not supported (540); active=true is
    acknowledged."""
    c, ch = conn_ch(t)
    ch.flow(True)
    ch.flow(False)


def scenario_all_properties_roundtrip(t):
    """All 14 properties and typed headers survive publish/get."""
    c, ch = conn_ch(t, confirm=True)
    q = t.name('q')
    ch.queue_declare(q)
    ch.publish('', q, b'\x00\x01binary\xff', content_type='application/x',
               content_encoding='gzip',
               headers={'s': 'str', 'i': long_(-3), 'b': True,
                        'arr': ['a', long_(2)], 'tab': {'k': 'v'}},
               delivery_mode=2, priority=9, correlation_id='corr',
               reply_to='back', expiration='600000', message_id='id',
               timestamp=1234567890, type='kind', user_id='guest',
               app_id='app', cluster_id='cluster')
    ch.get(q, auto_ack=True)


def scenario_publish_to_amq_default_name(t):
    """Publishing to 'amq.default' is the default exchange."""
    c, ch = conn_ch(t, confirm=True)
    q = t.name('q')
    ch.queue_declare(q)
    ch.publish('amq.default', q, 'm', mandatory=True)
    attempt(t, c, 'exchange_declare', 'amq.default', 'direct', passive=True)
    attempt(t, c, 'get', q, auto_ack=True)
