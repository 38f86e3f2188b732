"""x-max-length / x-max-length-bytes (ready messages only) with x-overflow
drop-head, reject-publish (publisher nack) and reject-publish-dlx."""

from ._util import conn_ch, long_


def _q(t, ch, local='q', **args):
    q = t.name(local)
    ch.queue_declare(q, arguments={k: long_(v) if isinstance(v, int)
                                   and not isinstance(v, bool) else v
                                   for k, v in args.items()})
    return q


def scenario_drop_head(t):
    """x-max-length 2 keeps the two newest messages."""
    c, ch = conn_ch(t, confirm=True)
    q = _q(t, ch, **{'x-max-length': 2})
    for i in range(1, 5):
        ch.publish('', q, 'm%d' % i)
    ch.queue_declare(q, passive=True)
    ch.get_all(q)


def scenario_max_length_zero(t):
    """x-max-length 0: drop-head drops everything, reject-publish nacks."""
    c, ch = conn_ch(t, confirm=True)
    q = _q(t, ch, **{'x-max-length': 0})
    ch.publish('', q, 'm1', mandatory=True)
    ch.get(q)
    q2 = _q(t, ch, 'q2', **{'x-max-length': 0,
                             'x-overflow': 'reject-publish'})
    ch.publish('', q2, 'm2', mandatory=True)
    ch.get(q2)


def scenario_max_length_bytes_drop_head(t):
    """Body bytes of ready messages count (headers do not)."""
    c, ch = conn_ch(t, confirm=True)
    q = _q(t, ch, **{'x-max-length-bytes': 10})
    ch.publish('', q, 'aaaa', headers={'big': 'x' * 200})
    ch.publish('', q, 'bbbb')
    ch.publish('', q, 'cccc')
    ch.queue_declare(q, passive=True)
    ch.publish('', q, '0123456789A')
    ch.queue_declare(q, passive=True)
    ch.publish('', q, '')
    ch.publish('', q, 'dd')
    ch.get_all(q)


def scenario_ready_messages_only(t):
    """Unacknowledged messages do not count against the limit; requeueing
    them re-applies it (the requeued heads are dropped)."""
    c, ch = conn_ch(t, confirm=True)
    q = _q(t, ch, **{'x-max-length': 2})
    ch.publish('', q, 'm1')
    ch.publish('', q, 'm2')
    ch.get(q)
    t2 = ch.get(q)
    ch.publish('', q, 'm3')
    ch.publish('', q, 'm4')
    ch.queue_declare(q, passive=True)
    ch.nack(t2, multiple=True, requeue=True)
    ch.queue_declare(q, passive=True)
    ch.publish('', q, 'm5')
    ch.get_all(q)


def scenario_reject_publish_nack(t):
    """reject-publish: over the limit, the publisher gets basic.nack and
    the message is discarded."""
    c, ch = conn_ch(t, confirm=True)
    q = _q(t, ch, **{'x-max-length': 2, 'x-overflow': 'reject-publish'})
    for i in range(1, 5):
        ch.publish('', q, 'm%d' % i)
    ch.get(q, auto_ack=True)
    ch.publish('', q, 'm5')
    ch.publish('', q, 'm6')
    ch.get_all(q)


def scenario_reject_publish_without_confirms(t):
    """reject-publish without confirms drops silently (no return for
    mandatory)."""
    c, ch = conn_ch(t)
    q = _q(t, ch, **{'x-max-length': 1, 'x-overflow': 'reject-publish'})
    ch.publish('', q, 'm1')
    ch.publish('', q, 'm2', mandatory=True)
    ch.sync()
    ch.get_all(q)


def scenario_reject_publish_mandatory(t):
    """A rejected mandatory publish is nacked, not returned."""
    c, ch = conn_ch(t, confirm=True)
    q = _q(t, ch, **{'x-max-length': 1, 'x-overflow': 'reject-publish'})
    ch.publish('', q, 'm1', mandatory=True)
    ch.publish('', q, 'm2', mandatory=True)


def scenario_reject_publish_bytes(t):
    """reject-publish on x-max-length-bytes."""
    c, ch = conn_ch(t, confirm=True)
    q = _q(t, ch, **{'x-max-length-bytes': 5,
                     'x-overflow': 'reject-publish'})
    ch.publish('', q, 'abc')
    ch.publish('', q, 'de')
    ch.publish('', q, 'f')
    ch.publish('', q, '')
    ch.get_all(q)


def scenario_reject_publish_fanout_partial(t):
    """One full queue among several targets: the publish is nacked, the
    other queue still gets the message."""
    c, ch = conn_ch(t, confirm=True)
    x = t.name('x')
    ch.exchange_declare(x, 'fanout')
    full = _q(t, ch, 'full', **{'x-max-length': 1,
                                'x-overflow': 'reject-publish'})
    free = _q(t, ch, 'free')
    ch.queue_bind(full, x, '')
    ch.queue_bind(free, x, '')
    ch.publish(x, '', 'm1')
    ch.publish(x, '', 'm2')
    ch.get_all(full)
    ch.get_all(free)


def scenario_reject_publish_dlx(t):
    """reject-publish-dlx: the rejected message is dead-lettered (maxlen)
    and the publisher nacked."""
    c, ch = conn_ch(t, confirm=True)
    dlq = _q(t, ch, 'dlq')
    q = _q(t, ch, **{'x-max-length': 1, 'x-overflow': 'reject-publish-dlx',
                     'x-dead-letter-exchange': '',
                     'x-dead-letter-routing-key': dlq})
    ch.publish('', q, 'm1')
    ch.publish('', q, 'm2', headers={'h': 'v'})
    t.wait_count(dlq, 1)
    ch.get_all(q)
    ch.get_all(dlq)


def scenario_reject_publish_dlx_no_dlx(t):
    """reject-publish-dlx without a DLX behaves like reject-publish."""
    c, ch = conn_ch(t, confirm=True)
    q = _q(t, ch, **{'x-max-length': 1, 'x-overflow': 'reject-publish-dlx'})
    ch.publish('', q, 'm1')
    ch.publish('', q, 'm2')
    ch.get_all(q)


def scenario_drop_head_dead_letters(t):
    """drop-head with a DLX dead-letters the dropped head (maxlen)."""
    c, ch = conn_ch(t, confirm=True)
    dlq = _q(t, ch, 'dlq')
    q = _q(t, ch, **{'x-max-length': 1,
                     'x-dead-letter-exchange': '',
                     'x-dead-letter-routing-key': dlq})
    ch.publish('', q, 'm1', expiration='60000')
    ch.publish('', q, 'm2')
    ch.publish('', q, 'm3')
    t.wait_count(dlq, 2)
    ch.get_all(q)
    ch.get_all(dlq)


def scenario_drop_head_bytes_dead_letters(t):
    """x-max-length-bytes drop-head dead-letters the dropped heads."""
    c, ch = conn_ch(t, confirm=True)
    dlq = _q(t, ch, 'dlq')
    q = _q(t, ch, **{'x-max-length-bytes': 4,
                     'x-dead-letter-exchange': '',
                     'x-dead-letter-routing-key': dlq})
    ch.publish('', q, 'ab')
    ch.publish('', q, 'cd')
    ch.publish('', q, 'efg')
    t.wait_count(dlq, 2)
    t.sleep(0.1)
    ch.get_all(q)
    ch.get_all(dlq)


def scenario_limit_with_consumer(t):
    """With a consumer taking messages, nothing is dropped."""
    c, ch = conn_ch(t)
    q = _q(t, ch, **{'x-max-length': 1})
    ch.consume(q, 'c1', auto_ack=True)
    pub = c.channel()
    pub.confirm_select()
    for i in range(1, 4):
        pub.publish('', q, 'm%d' % i)
        t.wait_until(lambda i=i: len(ch.deliveries) >= i, settle=0)
    t.sleep(0.1)


def scenario_both_limits(t):
    """x-max-length and x-max-length-bytes together: whichever is hit."""
    c, ch = conn_ch(t, confirm=True)
    q = _q(t, ch, **{'x-max-length': 3, 'x-max-length-bytes': 6})
    ch.publish('', q, 'aaa')
    ch.publish('', q, 'bbb')
    ch.publish('', q, 'c')
    ch.queue_declare(q, passive=True)
    ch.publish('', q, 'd')
    ch.publish('', q, 'e')
    ch.get_all(q)
