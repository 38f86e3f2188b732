"""Direct reply-to (amq.rabbitmq.reply-to)."""

import pika.spec as spec

from ._util import conn_ch, attempt

REPLY_TO = 'amq.rabbitmq.reply-to'


def _server(t):
    c, ch = conn_ch(t)
    q = t.name('rpc')
    ch.queue_declare(q)
    return c, ch, q


def scenario_round_trip(t):
    """Request with reply_to=amq.rabbitmq.reply-to; the server sees an
    opaque reply address and its reply reaches the no-ack consumer."""
    sc, sch, q = _server(t)
    c, ch = conn_ch(t)
    ch.consume(REPLY_TO, 'replies', auto_ack=True)
    ch.publish('', q, 'request', reply_to=REPLY_TO, correlation_id='42')
    ch.sync()
    method, props, body = sch.ch.basic_get(q, auto_ack=True)
    t.log('server_got', reply_to_prefix=props.reply_to[:len(REPLY_TO) + 1],
          reply_to_differs=props.reply_to != REPLY_TO,
          correlation_id=props.correlation_id, body=body.decode())
    sch.confirm_select()
    sch.publish('', props.reply_to, 'response', correlation_id='42',
                mandatory=True)
    t.wait_until(lambda: len(ch.deliveries) >= 1, settle=0.1)


def scenario_consumer_must_be_no_ack(t):
    """A reply-to consumer with acks is a 406."""
    c, ch = conn_ch(t)
    ch.consume(REPLY_TO, 'replies', auto_ack=False)


def scenario_publish_without_consumer_406(t):
    """Publishing with reply_to=amq.rabbitmq.reply-to without a reply consumer
    is a 406."""
    sc, sch, q = _server(t)
    c, ch = conn_ch(t)
    ch.publish('', q, 'request', reply_to=REPLY_TO)
    ch.sync()
    sch.get(q, auto_ack=True)


def scenario_second_reply_consumer(t):
    """A second reply consumer on the channel is a 406."""
    c, ch = conn_ch(t)
    ch.consume(REPLY_TO, 'r1', auto_ack=True)
    ch.consume(REPLY_TO, 'r2', auto_ack=True)


def scenario_reply_consumer_on_other_channel(t):
    """The reply consumer must be on the publishing channel."""
    sc, sch, q = _server(t)
    c = t.connect()
    cons = c.channel()
    cons.consume(REPLY_TO, 'replies', auto_ack=True)
    pub = c.channel()
    pub.publish('', q, 'request', reply_to=REPLY_TO)
    pub.sync()


def scenario_reply_to_unknown_address(t):
    """Replies to a malformed or stale address are dropped (returned if
    mandatory)."""
    c, ch = conn_ch(t, confirm=True)
    ch.publish('', REPLY_TO + '.bogus', 'x', mandatory=True)
    ch.publish('', REPLY_TO, 'x', mandatory=True)
    ch.publish('', REPLY_TO + '.g2dkAA', 'y')


def scenario_passive_declare_reply_queue(t):
    """queue.declare of amq.rabbitmq.reply-to (passive and not) succeeds."""
    c, ch = conn_ch(t)
    ch.queue_declare(REPLY_TO, passive=True)
    attempt(t, c, 'queue_declare', REPLY_TO)


def scenario_reply_after_requester_gone(t):
    """The requester's connection closed: the reply is unroutable."""
    sc, sch, q = _server(t)
    c, ch = conn_ch(t)
    ch.consume(REPLY_TO, 'replies', auto_ack=True)
    ch.publish('', q, 'request', reply_to=REPLY_TO)
    ch.sync()
    method, props, body = sch.ch.basic_get(q, auto_ack=True)
    c.close()
    t.sleep(0.2)
    sch.confirm_select()
    sch.publish('', props.reply_to, 'late', mandatory=True)


def scenario_cancel_reply_consumer(t):
    """After cancelling the reply consumer, publishing with reply-to is a 406.
"""
    c, ch = conn_ch(t)
    ch.consume(REPLY_TO, 'replies', auto_ack=True)
    ch.cancel('replies')
    ch.publish('', t.name('nowhere'), 'request', reply_to=REPLY_TO)
    ch.sync()


def scenario_mandatory_reply_raw(t):
    """Raw frames of a mandatory reply: RabbitMQ delivers it to the
    requester AND returns it to the replier as NO_ROUTE before the ack."""
    sc, sch, q = _server(t)
    req = t.raw()
    req.open_channel(1)
    req.call(1, spec.Basic.Consume(queue=REPLY_TO, consumer_tag='replies',
                                   no_ack=True), 'basic.consume-ok')
    req.send(1, spec.Basic.Publish(exchange='', routing_key=q),
             spec.BasicProperties(reply_to=REPLY_TO), b'request')
    t.wait_count(q, 1)
    method, props, body = sch.ch.basic_get(q, auto_ack=True)
    rep = t.raw()
    rep.open_channel(1)
    rep.call(1, spec.Confirm.Select(), 'confirm.select-ok')
    rep.send(1, spec.Basic.Publish(exchange='', routing_key=props.reply_to,
                                   mandatory=True),
             spec.BasicProperties(correlation_id='1'), b'reply')
    rep.read(until={'basic.ack'})
    req.read(until={'basic.deliver'})
    rep.send(1, spec.Basic.Publish(exchange='', routing_key=props.reply_to),
             spec.BasicProperties(correlation_id='2'), b'reply2')
    rep.read(until={'basic.ack'})
    req.read(until={'basic.deliver'})
