"""x-single-active-consumer: one active consumer, failover on cancel and
on channel/connection close, interaction with basic.get and exclusive
consume."""

from ._util import conn_ch, attempt


def _sac(t, ch, local='q'):
    q = t.name(local)
    ch.queue_declare(q, arguments={'x-single-active-consumer': True})
    return q


def _consumers(t, c, q, tags, qos=None, conns=False):
    chans = []
    for tag in tags:
        conn = t.connect() if conns else c
        ch = conn.channel()
        if qos:
            ch.qos(prefetch_count=qos)
        ch.consume(q, tag)
        chans.append(ch)
    return chans


def scenario_first_consumer_active(t):
    """Only the first consumer of a single-active-consumer queue receives
    messages."""
    c, ch = conn_ch(t)
    q = _sac(t, ch)
    a, b = _consumers(t, c, q, ['a', 'b'])
    ch.confirm_select()
    for i in range(1, 4):
        ch.publish('', q, 'm%d' % i)
    t.wait_until(lambda: len(a.deliveries) >= 3, settle=0.2)
    ch.queue_declare(q, passive=True)


def scenario_failover_on_cancel(t):
    """After the active consumer is cancelled, the next one receives new
    messages. (Cancelling an active consumer that still has unacked
    messages while others wait crashes the queue process in 3.10.8, so
    the scenario acks first.)"""
    c, ch = conn_ch(t)
    q = _sac(t, ch)
    a, b = _consumers(t, c, q, ['a', 'b'], qos=1)
    ch.confirm_select()
    ch.publish('', q, 'm1')
    t.wait_until(lambda: len(a.deliveries) >= 1, settle=0.2)
    a.ack(a.deliveries[0]['delivery_tag'])
    a.cancel('a')
    ch.publish('', q, 'm2')
    t.wait_until(lambda: len(b.deliveries) >= 1, settle=0.2)
    b.ack(b.deliveries[0]['delivery_tag'])
    ch.publish('', q, 'm3')
    t.wait_until(lambda: len(b.deliveries) >= 2, settle=0.2)
    ch.queue_declare(q, passive=True)


def scenario_failover_on_channel_close(t):
    """Closing the active consumer's channel requeues its unacked message
    and the next consumer gets it (redelivered)."""
    c, ch = conn_ch(t)
    q = _sac(t, ch)
    a, b, d = _consumers(t, c, q, ['a', 'b', 'd'], qos=1)
    ch.confirm_select()
    ch.publish('', q, 'm1')
    ch.publish('', q, 'm2')
    t.wait_until(lambda: len(a.deliveries) >= 1, settle=0.2)
    a.close()
    t.wait_until(lambda: len(b.deliveries) >= 1, settle=0.2)
    b.ack(b.deliveries[0]['delivery_tag'])
    t.wait_until(lambda: len(b.deliveries) >= 2, settle=0.2)


def scenario_failover_on_connection_close(t):
    """The next consumer takes over when the active one's connection closes."""
    c, ch = conn_ch(t)
    q = _sac(t, ch)
    a, b = _consumers(t, c, q, ['a', 'b'], conns=True)
    ch.confirm_select()
    ch.publish('', q, 'm1')
    t.wait_until(lambda: len(a.deliveries) >= 1, settle=0.1)
    a.c.close()
    t.wait_until(lambda: len(b.deliveries) >= 1, settle=0.2)


def scenario_three_consumers_order(t):
    """Failover follows registration order."""
    c, ch = conn_ch(t)
    q = _sac(t, ch)
    chans = _consumers(t, c, q, ['a', 'b', 'd'], qos=0)
    ch.confirm_select()
    ch.publish('', q, 'm1')
    t.wait_until(lambda: len(chans[0].deliveries) >= 1, settle=0.1)
    chans[0].ack(chans[0].deliveries[0]['delivery_tag'])
    chans[0].cancel('a')
    ch.publish('', q, 'm2')
    t.wait_until(lambda: len(chans[1].deliveries) >= 1, settle=0.1)
    chans[1].ack(chans[1].deliveries[0]['delivery_tag'])
    chans[1].cancel('b')
    ch.publish('', q, 'm3')
    t.wait_until(lambda: len(chans[2].deliveries) >= 1, settle=0.1)


def scenario_basic_get_allowed(t):
    """basic.get works on a classic single-active-consumer queue."""
    c, ch = conn_ch(t, confirm=True)
    q = _sac(t, ch)
    ch.publish('', q, 'm1')
    ch.get(q, auto_ack=True)
    a, = _consumers(t, c, q, ['a'], qos=1)
    ch.publish('', q, 'm2')
    ch.publish('', q, 'm3')
    t.wait_until(lambda: len(a.deliveries) >= 1, settle=0.1)
    ch.get(q, auto_ack=True)


def scenario_exclusive_consume(t):
    """Exclusive consume on a single-active-consumer queue."""
    c, ch = conn_ch(t)
    q = _sac(t, ch)
    attempt(t, c, 'consume', q, 'x1', exclusive=True)
    attempt(t, c, 'consume', q, 'x2')


def scenario_consumer_priority_ignored(t):
    """x-priority does not pick the active consumer (3.10)."""
    c, ch = conn_ch(t)
    q = _sac(t, ch)
    a = c.channel()
    a.consume(q, 'low', arguments={'x-priority': 1})
    b = c.channel()
    b.consume(q, 'high', arguments={'x-priority': 10})
    ch.confirm_select()
    ch.publish('', q, 'm1')
    t.wait_until(lambda: len(a.deliveries) + len(b.deliveries) >= 1,
                 settle=0.2)


def scenario_declare_ok_consumer_count(t):
    """consumer_count counts all registered consumers, active or not."""
    c, ch = conn_ch(t)
    q = _sac(t, ch)
    _consumers(t, c, q, ['a', 'b'])
    ch.queue_declare(q, passive=True)
