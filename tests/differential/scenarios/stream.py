"""Streams (x-queue-type stream) on one node: declaration rules and
arguments, redeclaration, consumer rules (prefetch, acks), x-stream-offset,
the x-stream-offset header and what happens to headers, the operations
streams refuse, deletion, routing, confirms and segment offsets
(docs/queue_types.md, "Streams").

RabbitMQ's queue.declare-ok message_count of a stream comes from queue
statistics that are refreshed every few seconds (0 right after publishing),
so the scenarios wait with t.wait_count() before a logged declare. Messages
are published with confirms, one at a time, so that each is its own chunk:
'last' and prefetch work on chunks.

Not covered: retention by x-max-length-bytes / x-max-age. RabbitMQ deletes
old segments asynchronously after a segment roll-over; under a loaded broker
this took more than 6 s, so no wait makes a transcript deterministic."""

from ._util import conn_ch, attempt, long_, signed_int, double_, Typed

STREAM = {'x-queue-type': 'stream'}

# queue statistics (declare-ok message_count) lag by up to ~5 s
STATS_WAIT = 8.0


def _stream(**extra):
    args = dict(STREAM)
    args.update(extra)
    return args


def _declare(t, ch, local, **extra):
    q = t.name(local)
    ch.queue_declare(q, durable=True, arguments=_stream(**extra))
    return q


def _publish(ch, q, n):
    """n confirmed publishes m1..mn (ch in confirm mode): one chunk each."""
    for i in range(1, n + 1):
        ch.publish('', q, 'm%d' % i)


def _fresh(t, fn_name, *args, **kwargs):
    """attempt() on a new connection (for errors that close it)."""
    return attempt(t, t.connect(), fn_name, *args, **kwargs)


def _consumer(c, q, tag, prefetch=10, offset=None, arguments=None):
    """A channel with basic.qos(prefetch) consuming q; sync afterwards so
    that the reader's start offset is fixed before anything else happens."""
    sub = c.channel()
    sub.qos(prefetch_count=prefetch)
    args = dict(arguments or {})
    if offset is not None:
        args['x-stream-offset'] = offset
    sub.consume(q, tag, arguments=args)
    sub.sync()
    return sub


def scenario_declare_refusals(t):
    """Non-durable, exclusive, auto-delete and server-named streams are
    refused, auto-delete first; so are other queue types' arguments."""
    c = t.connect()
    attempt(t, c, 'queue_declare', t.name('nd'), arguments=_stream())
    attempt(t, c, 'queue_declare', t.name('ex'), durable=True,
            exclusive=True, arguments=_stream())
    attempt(t, c, 'queue_declare', t.name('ad'), durable=True,
            auto_delete=True, arguments=_stream())
    attempt(t, c, 'queue_declare', t.name('both'), durable=True,
            auto_delete=True, exclusive=True, arguments=_stream())
    attempt(t, c, 'queue_declare', '', durable=True, arguments=_stream())
    for local, key, value in [
            ('ttl', 'x-message-ttl', long_(1000)),
            ('ml', 'x-max-length', long_(10)),
            ('dlx', 'x-dead-letter-exchange', 'dlx'),
            ('dlrk', 'x-dead-letter-routing-key', 'k'),
            ('sac', 'x-single-active-consumer', True),
            ('ov', 'x-overflow', 'reject-publish'),
            ('prio', 'x-max-priority', long_(5)),
            ('exp', 'x-expires', long_(60000)),
            ('dl', 'x-delivery-limit', long_(3)),
            ('mode', 'x-queue-mode', 'lazy'),
            ('ver', 'x-queue-version', long_(2)),
            ('mloc', 'x-queue-master-locator', 'random'),
            ('dls', 'x-dead-letter-strategy', 'at-most-once'),
            ('mim', 'x-max-in-memory-length', long_(5)),
            ('mimb', 'x-max-in-memory-bytes', long_(5)),
            ('qigs', 'x-quorum-initial-group-size', long_(1))]:
        attempt(t, c, 'queue_declare', t.name(local), durable=True,
                arguments=_stream(**{key: value}))


def scenario_declare_argument_values(t):
    """x-max-length-bytes, x-max-age, x-stream-max-segment-size-bytes,
    x-initial-cluster-size and x-queue-leader-locator are accepted; invalid
    values are refused with 406, except x-max-age 'foo', '' and '-1h',
    which close the connection (541); no stream is created."""
    c = t.connect()
    for local, key, value in [
            ('mlb', 'x-max-length-bytes', long_(1000000)),
            ('mlbi', 'x-max-length-bytes', signed_int(1000)),
            ('age1', 'x-max-age', '1h'),
            ('age2', 'x-max-age', '7D'),
            ('age3', 'x-max-age', '10s'),
            ('age4', 'x-max-age', '30m'),
            ('age5', 'x-max-age', '2M'),
            ('age6', 'x-max-age', '1Y'),
            ('seg', 'x-stream-max-segment-size-bytes', long_(1000000)),
            ('ics', 'x-initial-cluster-size', long_(1)),
            ('loc', 'x-queue-leader-locator', 'client-local'),
            ('loc2', 'x-queue-leader-locator', 'balanced'),
            ('foo', 'x-foo', long_(1))]:
        attempt(t, c, 'queue_declare', t.name(local), durable=True,
                arguments=_stream(**{key: value}))
    for local, key, value in [
            ('bage1', 'x-max-age', 'foo'),
            ('bage2', 'x-max-age', '1x'),
            ('bage3', 'x-max-age', long_(3600)),
            ('bage4', 'x-max-age', ''),
            ('bage5', 'x-max-age', '-1h'),
            ('bage6', 'x-max-age', '0s'),
            ('bmlb1', 'x-max-length-bytes', 'abc'),
            ('bmlb2', 'x-max-length-bytes', long_(-1)),
            ('bmlb3', 'x-max-length-bytes', double_(1.5)),
            ('bseg1', 'x-stream-max-segment-size-bytes', 'abc'),
            ('bseg2', 'x-stream-max-segment-size-bytes', long_(-1)),
            ('bseg3', 'x-stream-max-segment-size-bytes',
             long_(4 * 1024 * 1024 * 1024)),
            ('bics', 'x-initial-cluster-size', 'abc'),
            ('bloc', 'x-queue-leader-locator', 'foo')]:
        q = t.name(local)
        c = t.connect()
        attempt(t, c, 'queue_declare', q, durable=True,
                arguments=_stream(**{key: value}))
        _fresh(t, 'queue_declare', q, passive=True)


def scenario_redeclare_equivalence(t):
    """Redeclaring a stream compares its arguments and the type (absent is
    not 'stream'); unknown keys are ignored."""
    c, ch = conn_ch(t)
    base = {'x-max-age': '1h', 'x-max-length-bytes': long_(100000),
            'x-stream-max-segment-size-bytes': long_(50000)}
    q = _declare(t, ch, 's', **base)
    ch.queue_declare(q, durable=True, arguments=_stream(**base))
    for change in [{'x-foo': long_(2)},
                   {'x-max-length-bytes': signed_int(100000)},
                   {'x-max-age': '2h'},
                   {'x-max-age': '60m'},
                   {'x-max-length-bytes': long_(100001)},
                   {'x-stream-max-segment-size-bytes': long_(50001)},
                   {'x-queue-type': 'classic'},
                   {'x-queue-type': 'quorum'}]:
        args = _stream(**base)
        args.update(change)
        attempt(t, c, 'queue_declare', q, durable=True, arguments=args)
    attempt(t, c, 'queue_declare', q, durable=True, arguments=base)
    attempt(t, c, 'queue_declare', q, durable=True, arguments=STREAM)
    for key in sorted(base):
        args = _stream(**base)
        del args[key]
        attempt(t, c, 'queue_declare', q, durable=True, arguments=args)
    attempt(t, c, 'queue_declare', q, durable=False,
            arguments=_stream(**base))
    attempt(t, c, 'queue_declare', q, passive=True)
    cq = t.name('cq')
    ch.queue_declare(cq, durable=True)
    attempt(t, c, 'queue_declare', cq, durable=True, arguments=STREAM)


def scenario_declare_ok_counts(t):
    """declare-ok counts every message in the stream (acked or not) and
    never counts consumers."""
    c, ch = conn_ch(t, confirm=True)
    q = _declare(t, ch, 's')
    _publish(ch, q, 5)
    t.wait_count(q, 5, timeout=STATS_WAIT)
    ch.queue_declare(q, passive=True)
    sub = _consumer(c, q, 'c', offset='first')
    t.wait_until(lambda: len(sub.deliveries) >= 5, settle=0.2)
    ch.queue_declare(q, passive=True)
    sub.ack(sub.deliveries[-1]['delivery_tag'], multiple=True)
    ch.queue_declare(q, durable=True, arguments=STREAM)


def scenario_consume_refusals(t):
    """basic.consume needs a consumer prefetch (406, a global prefetch does
    not count) and manual acks (540)."""
    c = t.connect()
    setup = c.channel()
    q = _declare(t, setup, 's')
    # no basic.qos at all
    _fresh(t, 'consume', q, 'noqos')
    # no_ack without basic.qos
    _fresh(t, 'consume', q, 'noack0', auto_ack=True)
    # no_ack with a prefetch
    c2 = t.connect()
    ch2 = c2.channel()
    ch2.qos(prefetch_count=10)
    ch2.consume(q, 'noack', auto_ack=True)
    # a global prefetch only
    c3 = t.connect()
    ch3 = c3.channel()
    ch3.qos(prefetch_count=10, global_qos=True)
    ch3.consume(q, 'global')


def scenario_global_qos_ignored(t):
    """A global prefetch next to a consumer prefetch is accepted and
    ignored: only the consumer prefetch limits a stream consumer."""
    c, ch = conn_ch(t, confirm=True)
    q = _declare(t, ch, 's')
    _publish(ch, q, 5)
    subs = []
    for tag, global_count, count in [('g1c10', 1, 10), ('g10c1', 10, 1),
                                     ('g0c2', 0, 2)]:
        sub = c.channel()
        sub.qos(prefetch_count=global_count, global_qos=True)
        sub.qos(prefetch_count=count)
        sub.consume(q, tag, arguments={'x-stream-offset': 'first'})
        sub.sync()
        subs.append((sub, min(count, 5)))
    t.wait_until(lambda: all(len(s.deliveries) >= n for s, n in subs),
                 settle=0.5)
    for sub, _ in subs:
        sub.ack(sub.deliveries[0]['delivery_tag'])
    t.wait_until(lambda: all(len(s.deliveries) >= min(n + 1, 5)
                             for s, n in subs), settle=0.5)


def scenario_offset_specs(t):
    """x-stream-offset: first, last (the last chunk), next / absent (only
    new messages), a number, a number beyond the end (waits there: not even
    the next message), a negative number (first), an interval and AMQP
    timestamps (far future: only new messages)."""
    c, ch = conn_ch(t, confirm=True)
    q = _declare(t, ch, 's')
    _publish(ch, q, 5)
    cases = [('first', 'first', 5),
             ('last', 'last', 1),
             ('next', 'next', 0),
             ('absent', None, 0),
             ('long2', long_(2), 3),
             ('int3', signed_int(3), 2),
             ('beyond', long_(100), 0),
             ('negative', long_(-1), 5),
             ('interval', '1h', 5),
             ('ts_past', Typed('T', 1), 5),
             ('ts_future', Typed('T', 4102444800), 0)]
    subs = []
    for tag, offset, n in cases:
        subs.append((_consumer(c, q, tag, offset=offset), n))
    t.wait_until(lambda: all(len(s.deliveries) >= n for s, n in subs),
                 settle=0.5)
    ch.publish('', q, 'new')
    t.wait_until(lambda: all(len(s.deliveries) >= n + 1
                             for (tag, _, _), (s, n) in zip(cases, subs)
                             if tag != 'beyond'), settle=0.5)


def scenario_offset_invalid(t):
    """Invalid x-stream-offset values: 'foo', '', a double, a boolean and a
    table close the connection (541); '1x' is a 406."""
    c, ch = conn_ch(t)
    q = _declare(t, ch, 's')
    for value in ['foo', '1x', '', double_(1.5), True, {'a': 1}]:
        c2 = t.connect()
        sub = c2.channel()
        sub.qos(prefetch_count=10)
        sub.consume(q, 'bad', arguments={'x-stream-offset': value})
    ch.queue_declare(q, passive=True)


def scenario_delivery_header_and_properties(t):
    """Every delivery carries x-stream-offset (a long) added to the
    message's headers; properties are kept, redelivered is false, and a
    per-message expiration is not applied."""
    c, ch = conn_ch(t, confirm=True)
    q = _declare(t, ch, 's')
    ch.publish('', q, 'plain')
    ch.publish('', q, 'props', content_type='text/plain',
               headers={'h1': long_(1), 'h2': 'two', 'x-stream-offset': 'S'},
               delivery_mode=2, priority=3, correlation_id='corr',
               reply_to='rt', message_id='mid', timestamp=1000, type='ty',
               app_id='app')
    ch.publish('', q, 'expiring', expiration='1')
    ch.publish('', q, 'empty-headers', headers={})
    ch.publish('', q, 'order1', headers={'z': long_(1), 'a': long_(2)})
    ch.publish('', q, 'order2', headers={'x-stream-offset': long_(7),
                                         'z': long_(1), 'a': long_(2)})
    t.sleep(0.2)
    sub = _consumer(c, q, 'c', offset='first')
    t.wait_until(lambda: len(sub.deliveries) >= 6, settle=0.2)


def scenario_properties_and_header_types(t):
    """Properties and header values of every AMQP type read back from a
    stream: headers come back sorted by key, array and table values are
    dropped, cluster_id is dropped, scalar types are kept."""
    c, ch = conn_ch(t, confirm=True)
    q = _declare(t, ch, 's')
    ch.publish('', q, b'\x00\x01binary\xff', content_type='application/x',
               content_encoding='gzip',
               headers={'z-str': 'str', 'y-long': long_(-3),
                        'x-int': signed_int(7), 'w-short': Typed('s', -2),
                        'v-byte': Typed('b', -1), 'u-ubyte': Typed('B', 200),
                        't-ushort': Typed('u', 60000),
                        's-uint': Typed('i', 4000000000),
                        'r-float': Typed('f', 1.5), 'q-double': double_(2.25),
                        'o-timestamp': Typed('T', 1234567890),
                        'n-true': True, 'm-false': False, 'l-void': Typed('V'),
                        'k-bytes': Typed('x', b'\x01\x02'),
                        'j-array': ['a', long_(2), signed_int(3), True],
                        'i-empty-array': [],
                        'h-table': {'k2': 'v', 'k1': long_(1)},
                        'g-empty-table': {},
                        'A-upper': 'u', 'x-stream-offset-z': 'near'},
               delivery_mode=2, priority=9, correlation_id='corr',
               reply_to='back', expiration='600000', message_id='id',
               timestamp=1234567890, type='kind', user_id='guest',
               app_id='app', cluster_id='cluster')
    ch.publish('', q, 'non-persistent', delivery_mode=1)
    sub = _consumer(c, q, 'c', offset='first')
    t.wait_until(lambda: len(sub.deliveries) >= 2, settle=0.2)


def scenario_decimal_header_541(t):
    """A top-level decimal header value makes the publish to a stream fail
    with 541 INTERNAL_ERROR (the connection is closed, nothing is stored);
    inside a table or an array it is accepted, as arrays and tables are
    dropped from stream headers."""
    c, ch = conn_ch(t, confirm=True)
    q = _declare(t, ch, 's')
    ch.publish('', q, 'before')
    for local, headers in [('top', {'d': Typed('D', (2, 12345))}),
                           ('table', {'t': {'d': Typed('D', (1, 5))}}),
                           ('array', {'a': [Typed('D', (0, 1))]})]:
        c2, ch2 = conn_ch(t, confirm=True)
        ch2.publish('', q, local, headers=headers)
    ch.publish('', q, 'after')
    sub = _consumer(c, q, 'c', offset='first')
    t.wait_until(lambda: len(sub.deliveries) >= 4, settle=0.3)


def scenario_independent_consumers_and_acks(t):
    """Consumers on different channels read independently from their own
    offsets; acks remove nothing: a new consumer from 'first' sees every
    message again and the count is unchanged."""
    c, ch = conn_ch(t, confirm=True)
    q = _declare(t, ch, 's')
    _publish(ch, q, 5)
    a = _consumer(c, q, 'a', offset='first')
    b = _consumer(c, q, 'b', offset=long_(3))
    t.wait_until(lambda: len(a.deliveries) >= 5 and len(b.deliveries) >= 2,
                 settle=0.2)
    a.ack(a.deliveries[-1]['delivery_tag'], multiple=True)
    for d in b.deliveries:
        b.ack(d['delivery_tag'])
    a.cancel('a')
    b.cancel('b')
    again = _consumer(c, q, 'again', offset='first')
    t.wait_until(lambda: len(again.deliveries) >= 5, settle=0.2)
    t.wait_count(q, 5, timeout=STATS_WAIT)
    ch.queue_declare(q, passive=True)


def scenario_prefetch_credit(t):
    """With prefetch 2 a consumer gets two one-message chunks and then one
    more per ack; an ack of an unknown tag is a 406."""
    c, ch = conn_ch(t, confirm=True)
    q = _declare(t, ch, 's')
    _publish(ch, q, 5)
    sub = _consumer(c, q, 'c', prefetch=2, offset='first')
    t.wait_until(lambda: len(sub.deliveries) >= 2, settle=0.5)
    sub.ack(sub.deliveries[0]['delivery_tag'])
    t.wait_until(lambda: len(sub.deliveries) >= 3, settle=0.5)
    sub.ack(sub.deliveries[2]['delivery_tag'], multiple=True)
    t.wait_until(lambda: len(sub.deliveries) >= 5, settle=0.5)
    sub.ack(99)


def scenario_refused_operations(t):
    """basic.get, queue.purge, basic.nack and basic.reject are not supported
    by streams (540, connection closed); basic.recover requeue=true is a
    541 and requeue=false the usual 540; nothing is removed."""
    c, ch = conn_ch(t, confirm=True)
    q = _declare(t, ch, 's')
    _publish(ch, q, 3)
    _fresh(t, 'get', q)
    _fresh(t, 'get', q, auto_ack=True)
    _fresh(t, 'queue_purge', q)
    for op in ['nack', 'reject', 'nack_no_requeue', 'reject_no_requeue',
               'recover', 'recover_no_requeue']:
        c2 = t.connect()
        sub = _consumer(c2, q, op, offset='first')
        t.wait_until(lambda: len(sub.deliveries) >= 3, settle=0.2)
        tag = sub.deliveries[0]['delivery_tag']
        if op == 'nack':
            sub.nack(tag, requeue=True)
        elif op == 'reject':
            sub.reject(tag, requeue=True)
        elif op == 'nack_no_requeue':
            sub.nack(tag, requeue=False)
        elif op == 'reject_no_requeue':
            sub.reject(tag, requeue=False)
        elif op == 'recover':
            sub.recover(requeue=True)
            t.sleep(0.3)
        else:
            sub.recover(requeue=False)
            t.sleep(0.3)
    t.wait_count(q, 3, timeout=STATS_WAIT)
    ch.queue_declare(q, passive=True)


def scenario_delete(t):
    """queue.delete of a stream ignores if-unused and if-empty; delete-ok
    says message_count 0; a consumer of a deleted stream gets
    basic.cancel."""
    c, ch = conn_ch(t, confirm=True)
    streams = []
    for local in ['plain', 'if_empty', 'if_unused']:
        q = _declare(t, ch, local)
        _publish(ch, q, 3)
        streams.append(q)
    plain, if_empty, if_unused = streams
    sub = _consumer(c, if_unused, 'c', offset='first')
    t.wait_until(lambda: len(sub.deliveries) >= 3, settle=0.2)
    for q in streams:
        t.wait_count(q, 3, timeout=STATS_WAIT)
        ch.queue_declare(q, passive=True)
    attempt(t, c, 'queue_delete', plain)
    attempt(t, c, 'queue_delete', if_empty, if_empty=True)
    attempt(t, c, 'queue_delete', if_unused, if_unused=True)
    t.wait_until(lambda: any(ev['event'] == 'basic.cancel'
                             for ev in sub.pending), settle=0.2)
    for q in streams:
        _fresh(t, 'queue_declare', q, passive=True)


def scenario_exchange_routing_and_confirms(t):
    """Publishing through a direct exchange bound to a stream; mandatory
    returns for unroutable messages; confirms; deliveries keep the
    exchange and routing key."""
    c, ch = conn_ch(t, confirm=True)
    q = _declare(t, ch, 's')
    x = t.name('x')
    ch.exchange_declare(x, 'direct')
    ch.queue_bind(q, x, 'k')
    ch.publish(x, 'k', 'm1')
    ch.publish(x, 'k', 'm2', mandatory=True)
    ch.publish(x, 'other', 'm3', mandatory=True)
    ch.publish(x, 'other', 'm4')
    ch.publish('', q, 'm5', mandatory=True)
    sub = _consumer(c, q, 'c', offset='first')
    t.wait_until(lambda: len(sub.deliveries) >= 3, settle=0.3)
    t.wait_count(q, 3, timeout=STATS_WAIT)
    ch.queue_declare(q, passive=True)


def scenario_segment_offset_gaps(t):
    """Small segments: each new segment starts with a chunk that takes an
    offset, so the x-stream-offset values of messages have gaps; a
    numeric x-stream-offset that falls in a gap starts at the next
    message."""
    c, ch = conn_ch(t, confirm=True)
    q = _declare(t, ch, 's', **{
        'x-stream-max-segment-size-bytes': long_(1000)})
    for i in range(12):
        ch.publish('', q, 'm%02d%s' % (i, 'x' * 47))
    sub = _consumer(c, q, 'c', prefetch=100, offset='first')
    t.wait_until(lambda: len(sub.deliveries) >= 12, settle=0.3)
    sub.ack(sub.deliveries[-1]['delivery_tag'], multiple=True)
    last = _consumer(c, q, 'last', offset='last')
    nxt = _consumer(c, q, 'offset5', offset=long_(5))
    t.wait_until(lambda: len(last.deliveries) >= 1 and
                 len(nxt.deliveries) >= 7, settle=0.3)

