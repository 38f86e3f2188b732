"""x-max-priority: priority ordering, priority above the maximum capped,
requeue and limits in priority queues."""

from ._util import conn_ch, long_


def _pq(t, ch, maxp, local='q', **extra):
    q = t.name(local)
    args = {'x-max-priority': long_(maxp)} if maxp is not None else {}
    args.update(extra)
    ch.queue_declare(q, arguments=args)
    return q


def _publish(ch, q, prios):
    for i, p in enumerate(prios):
        if p is None:
            ch.publish('', q, 'm%d-none' % i)
        else:
            ch.publish('', q, 'm%d-p%d' % (i, p), priority=p)


def scenario_ordering(t):
    """Highest priority first; FIFO within a priority; no priority = 0."""
    c, ch = conn_ch(t, confirm=True)
    q = _pq(t, ch, 10)
    _publish(ch, q, [1, 5, None, 10, 5, 0, 3])
    ch.get_all(q)


def scenario_above_max_capped(t):
    """Priorities above x-max-priority count as the maximum (FIFO among
    them); the property is delivered unchanged."""
    c, ch = conn_ch(t, confirm=True)
    q = _pq(t, ch, 3)
    _publish(ch, q, [2, 9, 3, 255, 1, 4])
    ch.get_all(q)


def scenario_no_max_priority_is_fifo(t):
    """Without x-max-priority the priority property is ignored."""
    c, ch = conn_ch(t, confirm=True)
    q = _pq(t, ch, None)
    _publish(ch, q, [1, 9, None, 5])
    ch.get_all(q)


def scenario_max_priority_zero(t):
    """x-max-priority 0 behaves as FIFO."""
    c, ch = conn_ch(t, confirm=True)
    q = _pq(t, ch, 0)
    _publish(ch, q, [1, 9, None, 0])
    ch.get_all(q)


def scenario_requeue_keeps_priority_order(t):
    """A requeued message goes back among its own priority."""
    c, ch = conn_ch(t, confirm=True)
    q = _pq(t, ch, 5)
    _publish(ch, q, [5, 1, 5, 1])
    tag = ch.get(q)
    ch.publish('', q, 'late-p3', priority=3)
    ch.nack(tag, requeue=True)
    ch.get_all(q)


def scenario_consumer_gets_priority_order(t):
    """Messages published while the consumer was busy arrive in priority
    order."""
    c, ch = conn_ch(t)
    q = _pq(t, ch, 10)
    ch.qos(prefetch_count=1)
    ch.consume(q, 'c1')
    pub = c.channel()
    pub.confirm_select()
    pub.publish('', q, 'first', priority=1)
    t.wait_until(lambda: len(ch.deliveries) >= 1)
    _publish(pub, q, [1, 7, 4])
    for i in range(1, 5):
        ch.ack(ch.deliveries[-1]['delivery_tag'])
        if i < 4:
            t.wait_until(lambda i=i: len(ch.deliveries) >= i + 1)
    t.sleep(0.1)


def scenario_drop_head_in_priority_queue(t):
    """x-max-length on a priority queue: which message is dropped."""
    c, ch = conn_ch(t, confirm=True)
    q = _pq(t, ch, 5, **{'x-max-length': long_(2)})
    _publish(ch, q, [1, 5, 3])
    ch.get_all(q)


def scenario_ttl_in_priority_queue(t):
    """Per-message TTL in a priority queue."""
    c, ch = conn_ch(t, confirm=True)
    q = _pq(t, ch, 5)
    ch.publish('', q, 'low-long', priority=1, expiration='60000')
    ch.publish('', q, 'high-short', priority=5, expiration='100')
    ch.publish('', q, 'mid', priority=3)
    t.sleep(0.5)
    ch.get_all(q)


def scenario_counts(t):
    """declare-ok and get-ok message counts of a priority queue."""
    c, ch = conn_ch(t, confirm=True)
    q = _pq(t, ch, 2)
    _publish(ch, q, [0, 1, 2, 2, None])
    ch.queue_declare(q, passive=True)
    ch.get(q)
    ch.queue_purge(q)
    ch.queue_declare(q, passive=True)
