"""Message TTL: x-message-ttl (including 0), per-message expiration
(smaller wins, invalid strings), expiry only at the head, requeued messages
keep their expiry.

Timing: TTLs of 100-300 ms, waits at least 2.5x longer; nothing asserts on
timing itself, only on what basic.get/consumers see afterwards."""

from ._util import conn_ch, long_


def _queue(t, ch, local='q', **args):
    q = t.name(local)
    ch.queue_declare(q, arguments={k.replace('_', '-'): long_(v)
                                   if isinstance(v, int) else v
                                   for k, v in args.items()})
    return q


def scenario_queue_ttl_expires(t):
    """x-message-ttl 200 ms: messages are gone after the TTL."""
    c, ch = conn_ch(t, confirm=True)
    q = _queue(t, ch, x_message_ttl=200)
    ch.publish('', q, 'm1')
    ch.publish('', q, 'm2')
    ch.get(q, auto_ack=True)
    t.sleep(0.7)
    ch.get(q, auto_ack=True)
    ch.queue_declare(q, passive=True)


def scenario_queue_ttl_not_yet_expired(t):
    """A long x-message-ttl keeps the message."""
    c, ch = conn_ch(t, confirm=True)
    q = _queue(t, ch, x_message_ttl=60000)
    ch.publish('', q, 'm1')
    t.sleep(0.3)
    ch.get(q, auto_ack=True)


def scenario_queue_ttl_zero_without_consumer(t):
    """x-message-ttl 0 with no consumer: the message is dropped (but the
    publish is confirmed and not returned)."""
    c, ch = conn_ch(t, confirm=True)
    q = _queue(t, ch, x_message_ttl=0)
    ch.publish('', q, 'm1', mandatory=True)
    ch.publish('', q, 'm2')
    ch.queue_declare(q, passive=True)
    ch.get(q, auto_ack=True)


def scenario_queue_ttl_zero_with_consumer(t):
    """x-message-ttl 0 with a ready consumer: delivered."""
    c, ch = conn_ch(t)
    q = _queue(t, ch, x_message_ttl=0)
    ch.consume(q, 'c1', auto_ack=True)
    pub = c.channel()
    pub.confirm_select()
    pub.publish('', q, 'm1')
    pub.publish('', q, 'm2')
    t.wait_until(lambda: len(ch.deliveries) >= 2, settle=0.2)


def scenario_queue_ttl_zero_blocked_consumer(t):
    """x-message-ttl 0 with a consumer at its prefetch limit: dropped."""
    c, ch = conn_ch(t)
    q = _queue(t, ch, x_message_ttl=0)
    ch.qos(prefetch_count=1)
    ch.consume(q, 'c1')
    pub = c.channel()
    pub.confirm_select()
    pub.publish('', q, 'first')
    t.wait_until(lambda: len(ch.deliveries) >= 1)
    pub.publish('', q, 'second')
    t.sleep(0.2)
    ch.ack(ch.deliveries[0]['delivery_tag'])
    t.sleep(0.3)
    pub.queue_declare(q, passive=True)


def scenario_per_message_expiration(t):
    """Per-message expiration: short one expires, long one stays."""
    c, ch = conn_ch(t, confirm=True)
    q = _queue(t, ch)
    ch.publish('', q, 'short', expiration='200')
    ch.publish('', q, 'long', expiration='60000')
    t.sleep(0.7)
    ch.get_all(q)


def scenario_expiration_smaller_wins(t):
    """Effective TTL = min(queue TTL, message expiration)."""
    c, ch = conn_ch(t, confirm=True)
    q1 = _queue(t, ch, 'q-queue-long', x_message_ttl=60000)
    q2 = _queue(t, ch, 'q-queue-short', x_message_ttl=200)
    for q in (q1, q2):
        ch.publish('', q, 'msg-short', expiration='200')
        ch.publish('', q, 'msg-long', expiration='60000')
        ch.publish('', q, 'msg-none')
    t.sleep(0.7)
    ch.get_all(q1)
    ch.get_all(q2)


def scenario_expiration_zero(t):
    """expiration '0': dropped unless a consumer can take it at once."""
    c, ch = conn_ch(t, confirm=True)
    q = _queue(t, ch, 'q')
    ch.publish('', q, 'nobody', expiration='0')
    ch.get(q)
    q2 = _queue(t, ch, 'q2')
    cons = c.channel()
    cons.consume(q2, 'c1', auto_ack=True)
    ch.publish('', q2, 'consumed', expiration='0')
    t.wait_until(lambda: len(cons.deliveries) >= 1, settle=0.1)


def scenario_invalid_expiration_406(t):
    """Invalid expiration strings close the channel with 406."""
    c = t.connect()
    q = t.name('q')
    ch = c.channel()
    ch.queue_declare(q)
    # '+60000' is accepted (a sign is allowed) and long enough not to expire
    # before the final get, whatever the broker's speed.
    for value in ('abc', '-1', '10x', '', ' 10', '1.5', '+60000', '0x10',
                  '99999999999999999999'):
        pub = c.channel()
        pub.confirm_select()
        pub.publish('', q, 'm', expiration=value)
    check = c.channel()
    check.get(q)


def scenario_invalid_expiration_unroutable(t):
    """The expiration is validated even when the message routes nowhere."""
    c, ch = conn_ch(t)
    ch.publish('', t.name('noqueue'), 'm', expiration='soon')
    ch.sync()
    c2, ch2 = conn_ch(t)
    ch2.publish('amq.direct', t.name('nokey'), 'm', mandatory=True,
                expiration='-5')
    ch2.sync()


def scenario_expiry_only_at_head(t):
    """A short-lived message behind a long-lived one is not removed (still
    counted) until it reaches the head."""
    c, ch = conn_ch(t, confirm=True)
    q = _queue(t, ch)
    ch.publish('', q, 'long', expiration='60000')
    ch.publish('', q, 'short', expiration='100')
    ch.publish('', q, 'none')
    t.sleep(0.5)
    ch.queue_declare(q, passive=True)
    ch.get(q, auto_ack=True)
    ch.get(q, auto_ack=True)
    ch.get(q, auto_ack=True)


def scenario_requeued_keeps_expiry(t):
    """A message requeued after its TTL passed is dropped, not
    redelivered."""
    c, ch = conn_ch(t, confirm=True)
    q = _queue(t, ch, x_message_ttl=200)
    ch.publish('', q, 'm1')
    tag = ch.get(q)
    t.sleep(0.6)
    ch.nack(tag, requeue=True)
    t.sleep(0.1)
    ch.get(q)
    ch.queue_declare(q, passive=True)


def scenario_requeued_before_expiry(t):
    """Requeued before its deadline: redelivered, and still expires at the
    original deadline."""
    c, ch = conn_ch(t, confirm=True)
    q = _queue(t, ch, x_message_ttl=700)
    ch.publish('', q, 'm1')
    tag = ch.get(q)
    t.sleep(0.1)
    ch.reject(tag, requeue=True)
    tag = ch.get(q)
    ch.reject(tag, requeue=True)
    t.sleep(1.2)
    ch.get(q)


def scenario_unacked_not_expired(t):
    """A delivered, unacknowledged message is not expired while
    outstanding; acking it later works."""
    c, ch = conn_ch(t, confirm=True)
    q = _queue(t, ch, x_message_ttl=200)
    ch.publish('', q, 'm1')
    tag = ch.get(q)
    t.sleep(0.6)
    ch.ack(tag)
    ch.queue_declare(q, passive=True)


def scenario_recover_after_expiry(t):
    """basic.recover requeues an expired unacked message: it is dropped."""
    c, ch = conn_ch(t, confirm=True)
    q = _queue(t, ch, x_message_ttl=200)
    ch.publish('', q, 'm1')
    ch.publish('', q, 'm2', expiration='60000')
    ch.get(q)
    t.sleep(0.6)
    ch.recover(requeue=True)
    ch.get_all(q)


def scenario_expiration_property_delivered(t):
    """The expiration property is delivered unchanged to a consumer."""
    c, ch = conn_ch(t)
    q = _queue(t, ch, x_message_ttl=60000)
    ch.consume(q, 'c1')
    pub = c.channel()
    pub.confirm_select()
    pub.publish('', q, 'm', expiration='30000', priority=1)
    t.wait_until(lambda: len(ch.deliveries) >= 1)
    ch.ack(ch.deliveries[0]['delivery_tag'])


def scenario_consumer_does_not_get_expired(t):
    """A consumer attached after the TTL passed receives nothing."""
    c, ch = conn_ch(t, confirm=True)
    q = _queue(t, ch, x_message_ttl=150)
    ch.publish('', q, 'old1')
    ch.publish('', q, 'old2')
    t.sleep(0.6)
    cons = c.channel()
    cons.consume(q, 'c1', auto_ack=True)
    ch.publish('', q, 'fresh')
    t.wait_until(lambda: len(cons.deliveries) >= 1, settle=0.2)
