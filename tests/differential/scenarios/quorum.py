"""Quorum queues (x-queue-type quorum) on one node: declaration rules,
redeclaration, requeue order, x-delivery-count, delivery limit, length
limits, TTL, and the operations they refuse (docs/queue_types.md)."""

from ._util import conn_ch, attempt, long_
from .consumers import priority_higher_first

QUORUM = {'x-queue-type': 'quorum'}


def _quorum(**extra):
    args = dict(QUORUM)
    args.update(extra)
    return args


def _declare(t, ch, local, **extra):
    q = t.name(local)
    ch.queue_declare(q, durable=True, arguments=_quorum(**extra))
    return q


def _publish(ch, q, n, prefix='m'):
    for i in range(1, n + 1):
        ch.publish('', q, '%s%d' % (prefix, i))


def scenario_declare_refusals(t):
    """Non-durable, exclusive, auto-delete and server-named quorum queues are
    refused, auto-delete first; so are other queue types' arguments."""
    c = t.connect()
    attempt(t, c, 'queue_declare', t.name('nd'), arguments=_quorum())
    attempt(t, c, 'queue_declare', t.name('ex'), durable=True,
            exclusive=True, arguments=_quorum())
    attempt(t, c, 'queue_declare', t.name('ad'), durable=True,
            auto_delete=True, arguments=_quorum())
    attempt(t, c, 'queue_declare', t.name('both'), durable=True,
            auto_delete=True, exclusive=True, arguments=_quorum())
    attempt(t, c, 'queue_declare', '', durable=True, arguments=_quorum())
    for local, key, value in [
            ('prio', 'x-max-priority', long_(5)),
            ('mode', 'x-queue-mode', 'lazy'),
            ('ver', 'x-queue-version', long_(2)),
            ('mloc', 'x-queue-master-locator', 'random'),
            ('age', 'x-max-age', '1h'),
            ('seg', 'x-stream-max-segment-size-bytes', long_(5)),
            ('ics', 'x-initial-cluster-size', long_(3))]:
        attempt(t, c, 'queue_declare', t.name(local), durable=True,
                arguments=_quorum(**{key: value}))


def scenario_declare_argument_values(t):
    """Quorum arguments are validated (strategy, leader locator, lengths);
    x-delivery-limit is not; reject-publish-dlx is accepted."""
    c = t.connect()
    for local, key, value in [
            ('dls', 'x-dead-letter-strategy', 'foo'),
            ('dls2', 'x-dead-letter-strategy', 'at-least-once'),
            ('loc', 'x-queue-leader-locator', 'foo'),
            ('loc2', 'x-queue-leader-locator', 'balanced'),
            ('ml', 'x-max-length', long_(-1)),
            ('mim', 'x-max-in-memory-length', long_(5)),
            ('dl', 'x-delivery-limit', 'a'),
            ('dl2', 'x-delivery-limit', long_(-1)),
            ('ov', 'x-overflow', 'reject-publish-dlx'),
            ('ov2', 'x-overflow', 'bogus'),
            ('ttl', 'x-message-ttl', long_(1000)),
            ('exp', 'x-expires', long_(60000)),
            ('sac', 'x-single-active-consumer', True),
            ('qigs', 'x-quorum-initial-group-size', long_(3)),
            ('foo', 'x-foo', long_(1))]:
        attempt(t, c, 'queue_declare', t.name(local), durable=True,
                arguments=_quorum(**{key: value}))


def scenario_redeclare_equivalence(t):
    """Redeclaring a quorum queue compares the quorum arguments and the type
    (absent is not 'quorum'); unknown keys are ignored."""
    c, ch = conn_ch(t)
    base = {'x-delivery-limit': long_(3), 'x-max-length': long_(10)}
    q = _declare(t, ch, 'q', **base)
    for change in [{'x-foo': long_(2)},
                   {'x-delivery-limit': long_(4)},
                   {'x-max-length': long_(11)},
                   {'x-message-ttl': long_(5)},
                   {'x-queue-type': 'classic'}]:
        args = _quorum(**base)
        args.update(change)
        attempt(t, c, 'queue_declare', q, durable=True, arguments=args)
    attempt(t, c, 'queue_declare', q, durable=True, arguments=base)
    attempt(t, c, 'queue_declare', q, durable=False, arguments=_quorum(**base))
    attempt(t, c, 'queue_declare', q, passive=True)
    cq = t.name('cq')
    ch.queue_declare(cq, durable=True)
    attempt(t, c, 'queue_declare', cq, durable=True, arguments=_quorum())


def scenario_nack_requeues_at_the_back(t):
    """basic.nack with requeue puts the message behind every ready one;
    basic.get shows x-delivery-count on every message."""
    c, ch = conn_ch(t, confirm=True)
    q = _declare(t, ch, 'q')
    _publish(ch, q, 5)
    m1 = ch.get(q)
    ch.get(q)
    ch.nack(m1, requeue=True)
    ch.get_all(q)


def scenario_closed_channel_returns_go_first(t):
    """A closed channel's unacked messages go ahead of every ready one; a
    rejected (requeued) message goes to the back."""
    c, ch = conn_ch(t, confirm=True)
    q = _declare(t, ch, 'q')
    _publish(ch, q, 5)
    reader = c.channel()
    reader.get(q)
    m2 = reader.get(q)
    reader.get(q)
    reader.reject(m2, requeue=True)
    reader.close()
    ch.get_all(q)


def scenario_nack_multiple_and_recover(t):
    """nack multiple and basic.recover requeue in delivery order at the
    back."""
    c, ch = conn_ch(t, confirm=True)
    q1 = _declare(t, ch, 'q1')
    q2 = _declare(t, ch, 'q2')
    _publish(ch, q1, 5)
    _publish(ch, q2, 5)
    ch.get(q1)
    ch.get(q1)
    last = ch.get(q1)
    ch.nack(last, multiple=True, requeue=True)
    ch.get_all(q1)
    for _ in range(3):
        ch.get(q2)
    ch.recover(requeue=True)
    ch.get_all(q2)


def scenario_consumer_redelivery_header(t):
    """A consumer sees x-delivery-count only on redeliveries."""
    c, ch = conn_ch(t, confirm=True)
    q = _declare(t, ch, 'q')
    sub = c.channel()
    sub.qos(prefetch_count=1)
    sub.consume(q, 'c')
    ch.publish('', q, 'm1')
    t.wait_until(lambda: len(sub.deliveries) >= 1, settle=0.2)
    sub.nack(sub.deliveries[0]['delivery_tag'], requeue=True)
    t.wait_until(lambda: len(sub.deliveries) >= 2, settle=0.2)
    sub.ack(sub.deliveries[1]['delivery_tag'])
    ch.queue_declare(q, passive=True)


def scenario_delivery_limit_dead_letters(t):
    """Past x-delivery-limit a message is dead-lettered (reason
    delivery_limit); a closed channel's return counts."""
    c, ch = conn_ch(t, confirm=True)
    dlq = t.name('dlq')
    ch.queue_declare(dlq)
    q = _declare(t, ch, 'q', **{'x-delivery-limit': long_(1),
                                'x-dead-letter-exchange': '',
                                'x-dead-letter-routing-key': dlq})
    ch.publish('', q, 'm1')
    tag = ch.get(q)
    ch.nack(tag, requeue=True)
    reader = c.channel()
    reader.get(q)
    reader.close()
    t.sleep(0.2)
    ch.queue_declare(q, passive=True)
    ch.get_all(dlq)


def scenario_delivery_limit_without_dlx_drops(t):
    """Without a dead-letter exchange a message past the limit is dropped."""
    c, ch = conn_ch(t, confirm=True)
    q = _declare(t, ch, 'q', **{'x-delivery-limit': long_(0)})
    ch.publish('', q, 'm1')
    ch.publish('', q, 'm2')
    tag = ch.get(q)
    ch.nack(tag, requeue=True)
    ch.get_all(q)


def scenario_reject_publish_soft_limit(t):
    """reject-publish refuses only once the queue is over the limit, and
    until it is down to 80 % of it."""
    c, ch = conn_ch(t, confirm=True)
    q = _declare(t, ch, 'q', **{'x-max-length': long_(5),
                                'x-overflow': 'reject-publish'})
    _publish(ch, q, 8)
    ch.queue_declare(q, passive=True)
    ch.get(q, auto_ack=True)
    ch.publish('', q, 'x1')
    ch.get(q, auto_ack=True)
    ch.publish('', q, 'x2')
    ch.get_all(q)


def scenario_drop_head_and_reject_publish_dlx(t):
    """drop-head keeps the newest; reject-publish-dlx behaves as drop-head
    (and dead-letters the dropped heads)."""
    c, ch = conn_ch(t, confirm=True)
    dlq = t.name('dlq')
    ch.queue_declare(dlq)
    d = _declare(t, ch, 'd', **{'x-max-length': long_(2)})
    x = _declare(t, ch, 'x', **{'x-max-length': long_(2),
                                'x-overflow': 'reject-publish-dlx',
                                'x-dead-letter-exchange': '',
                                'x-dead-letter-routing-key': dlq})
    _publish(ch, d, 5)
    _publish(ch, x, 5)
    t.sleep(0.2)
    ch.get_all(d)
    ch.get_all(x)
    ch.get_all(dlq)


def scenario_message_ttl(t):
    """x-message-ttl and per-message expiration expire messages."""
    c, ch = conn_ch(t, confirm=True)
    q = _declare(t, ch, 'q', **{'x-message-ttl': long_(100)})
    ch.publish('', q, 'old')
    p = _declare(t, ch, 'p')
    ch.publish('', p, 'short', expiration='100')
    ch.publish('', p, 'long', expiration='60000')
    t.sleep(0.4)
    ch.publish('', q, 'new')
    ch.get_all(q)
    ch.get_all(p)


def scenario_global_qos_refused(t):
    """basic.consume on a quorum queue with a global prefetch closes the
    connection (540); a global prefetch of 0 is fine."""
    c, ch = conn_ch(t)
    q = _declare(t, ch, 'q')
    ok = c.channel()
    ok.qos(prefetch_count=0, global_qos=True)
    ok.consume(q, 'unlimited')
    c2 = t.connect()
    g = c2.channel()
    g.qos(prefetch_count=10, global_qos=True)
    g.consume(q, 'global')


def scenario_get_with_single_active_consumer_refused(t):
    """basic.get on a single-active-consumer quorum queue: 405."""
    c, ch = conn_ch(t)
    q = _declare(t, ch, 'q', **{'x-single-active-consumer': True})
    attempt(t, c, 'get', q)
    p = _declare(t, ch, 'p')
    ch.get(p)


def scenario_conditional_delete_refused(t):
    """queue.delete with if-unused or if-empty closes the connection
    (540); purge and a plain delete work."""
    c, ch = conn_ch(t, confirm=True)
    q = _declare(t, ch, 'q')
    _publish(ch, q, 3)
    ch.queue_purge(q)
    ch.queue_delete(q, if_empty=True)
    c2, ch2 = conn_ch(t)
    ch2.queue_delete(q, if_unused=True)
    c3, ch3 = conn_ch(t)
    ch3.queue_delete(q)


def scenario_declare_ok_counts(t):
    """declare-ok counts ready messages and consumers, not unacked ones."""
    c, ch = conn_ch(t, confirm=True)
    q = _declare(t, ch, 'q')
    _publish(ch, q, 3)
    ch.get(q)
    ch.queue_declare(q, passive=True)
    sub = c.channel()
    sub.qos(prefetch_count=1)
    sub.consume(q, 'c')
    t.wait_until(lambda: len(sub.deliveries) >= 1, settle=0.2)
    ch.queue_declare(q, durable=True, arguments=_quorum())


def scenario_consumer_priority(t):
    """The higher x-priority consumer of a quorum queue gets messages while
    it has prefetch room; then the lower one."""
    priority_higher_first(t, lambda t, ch: _declare(t, ch, 'q'))


def scenario_single_active_consumer_failover(t):
    """Single active consumer on a quorum queue: only the first consumer
    gets messages; when its channel closes its unacked message goes to the
    next one (redelivered, with x-delivery-count), ahead of the rest."""
    c, ch = conn_ch(t, confirm=True)
    q = _declare(t, ch, 'q', **{'x-single-active-consumer': True})
    chans = []
    for tag in ['a', 'b']:
        sub = c.channel()
        sub.qos(prefetch_count=1)
        sub.consume(q, tag)
        chans.append(sub)
    a, b = chans
    _publish(ch, q, 3)
    t.wait_until(lambda: len(a.deliveries) >= 1, settle=0.2)
    a.close()
    t.wait_until(lambda: len(b.deliveries) >= 1, settle=0.2)
    b.ack(b.deliveries[0]['delivery_tag'])
    t.wait_until(lambda: len(b.deliveries) >= 2, settle=0.2)
    b.ack(b.deliveries[1]['delivery_tag'])
    t.wait_until(lambda: len(b.deliveries) >= 3, settle=0.2)
    ch.queue_declare(q, passive=True)


def scenario_reject_publish_blocks_after_the_crossing_publish(t):
    """The publish that takes a reject-publish quorum queue over its limit
    blocks the next ones, even if the queue is back at the limit by then."""
    c, ch = conn_ch(t, confirm=True)
    q = _declare(t, ch, 'q', **{'x-max-length': long_(5),
                                'x-overflow': 'reject-publish'})
    _publish(ch, q, 6)
    ch.get(q, auto_ack=True)
    ch.publish('', q, 'x1')
    ch.get(q, auto_ack=True)
    ch.publish('', q, 'x2')
    ch.queue_declare(q, passive=True)
