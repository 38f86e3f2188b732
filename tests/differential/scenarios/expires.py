"""x-expires: what counts as use (consumers, basic.get, redeclare) and
what happens to the messages of an expired queue."""

from ._util import conn_ch, attempt, long_


def _declare(t, ch, local, ms, **extra):
    q = t.name(local)
    args = {'x-expires': long_(ms)}
    args.update(extra)
    ch.queue_declare(q, arguments=args)
    return q


def scenario_unused_queue_deleted(t):
    """A queue unused for x-expires is deleted (with its messages)."""
    c, ch = conn_ch(t, confirm=True)
    q = _declare(t, ch, 'q', 300)
    ch.publish('', q, 'm')
    t.sleep(1.0)
    attempt(t, c, 'queue_declare', q, passive=True)


def scenario_consumer_keeps_queue(t):
    """A queue with a consumer does not expire; after the consumer is
    cancelled it does."""
    c, ch = conn_ch(t)
    q = _declare(t, ch, 'q', 300)
    ch.consume(q, 'c1')
    t.sleep(1.0)
    other = t.connect()
    attempt(t, other, 'queue_declare', q, passive=True)
    ch.cancel('c1')
    t.sleep(1.0)
    attempt(t, other, 'queue_declare', q, passive=True)


def scenario_basic_get_counts_as_use(t):
    """basic.get (even on an empty queue) resets the expiry timer."""
    c, ch = conn_ch(t)
    q = _declare(t, ch, 'q', 1000)
    for _ in range(3):
        t.sleep(0.6)
        ch.get(q)
    attempt(t, c, 'queue_declare', q, passive=True)
    t.sleep(1.6)
    attempt(t, c, 'queue_declare', q, passive=True)


def scenario_redeclare_counts_as_use(t):
    """Redeclaring resets the x-expires timer."""
    c, ch = conn_ch(t)
    q = _declare(t, ch, 'q', 1000)
    for _ in range(3):
        t.sleep(0.6)
        ch.queue_declare(q, arguments={'x-expires': long_(1000)})
    t.sleep(1.6)
    attempt(t, c, 'queue_declare', q, arguments={'x-expires': long_(1000)},
            passive=True)


def scenario_passive_declare_use(t):
    """Does a passive declare reset the timer? (expires 1000 ms, passive
    declares 700 ms apart)."""
    c, ch = conn_ch(t)
    q = _declare(t, ch, 'q', 1000)
    t.sleep(0.7)
    attempt(t, c, 'queue_declare', q, passive=True)
    t.sleep(0.7)
    attempt(t, c, 'queue_declare', q, passive=True)


def scenario_messages_not_dead_lettered(t):
    """Messages of an expired queue are discarded, not dead-lettered."""
    c, ch = conn_ch(t, confirm=True)
    dlq = t.name('dlq')
    ch.queue_declare(dlq)
    q = _declare(t, ch, 'q', 300, **{'x-dead-letter-exchange': '',
                                     'x-dead-letter-routing-key': dlq})
    ch.publish('', q, 'm1')
    ch.publish('', q, 'm2')
    t.sleep(1.0)
    attempt(t, c, 'queue_declare', q, passive=True)
    attempt(t, c, 'get', dlq)


def scenario_consumer_channel_closed(t):
    """Closing the consuming channel makes the queue unused again."""
    c, ch = conn_ch(t)
    q = _declare(t, ch, 'q', 300)
    cons = c.channel()
    cons.consume(q, 'c1')
    t.sleep(0.8)
    attempt(t, c, 'queue_declare', q, passive=True)
    cons.close()
    t.sleep(1.0)
    attempt(t, c, 'queue_declare', q, passive=True)


def scenario_expired_queue_consumer_after(t):
    """A consumer on an expired queue gets 404; publishing to it is
    unroutable."""
    c, ch = conn_ch(t, confirm=True)
    q = _declare(t, ch, 'q', 200)
    t.sleep(0.8)
    ch.publish('', q, 'm', mandatory=True)
    attempt(t, c, 'consume', q, 'c1')
