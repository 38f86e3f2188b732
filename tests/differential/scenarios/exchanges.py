"""Exchange declaration, deletion, reserved names, internal and auto-delete
exchanges, and plain routing."""

from ._util import conn_ch, attempt, probe, long_


def scenario_declare_each_type(t):
    """Declare direct/fanout/topic/headers, redeclare identically, passive."""
    c, ch = conn_ch(t)
    for kind in ('direct', 'fanout', 'topic', 'headers'):
        x = t.name('x-' + kind)
        ch.exchange_declare(x, kind)
        ch.exchange_declare(x, kind)
        ch.exchange_declare(x, kind, passive=True)


def scenario_unknown_type_503(t):
    """An unknown exchange type is a connection error 503."""
    c, ch = conn_ch(t)
    ch.exchange_declare(t.name('x'), 'nosuchtype')
    c2, ch2 = conn_ch(t)
    ch2.exchange_declare(t.name('x2'), 'x-no-such-type')


def scenario_invalid_type_atom(t):
    """A type naming an existing Erlang atom ('foo', 'queue') gets a
    different 503 text on RabbitMQ."""
    c, ch = conn_ch(t)
    ch.exchange_declare(t.name('x'), 'foo')
    c2, ch2 = conn_ch(t)
    ch2.exchange_declare(t.name('x2'), 'queue')


def scenario_passive_ignores_type_and_flags(t):
    """exchange.declare passive=true ignores type, durable, auto_delete."""
    c, ch = conn_ch(t)
    x = t.name('x')
    ch.exchange_declare(x, 'fanout')
    ch.exchange_declare(x, 'topic', passive=True, durable=True,
                        auto_delete=True)
    ch.exchange_declare(x, 'nosuchtype', passive=True)


def scenario_passive_missing_404(t):
    """Passive declare of a missing exchange is a 404."""
    c, ch = conn_ch(t)
    ch.exchange_declare(t.name('nope'), 'direct', passive=True)


def scenario_redeclare_other_type_406(t):
    """Redeclaring with another type is a 406."""
    c, ch = conn_ch(t)
    x = t.name('x')
    ch.exchange_declare(x, 'direct')
    ch.exchange_declare(x, 'fanout')


def scenario_redeclare_other_flags_406(t):
    """durable, auto_delete and internal are compared on redeclare."""
    c, ch = conn_ch(t)
    x = t.name('x')
    ch.exchange_declare(x, 'direct')
    attempt(t, c, 'exchange_declare', x, 'direct', durable=True)
    attempt(t, c, 'exchange_declare', x, 'direct', auto_delete=True)
    attempt(t, c, 'exchange_declare', x, 'direct', internal=True)
    attempt(t, c, 'exchange_declare', x, 'direct')


def scenario_redeclare_args_only_ae_compared(t):
    """Other exchange arguments are ignored on redeclare; alternate-exchange
    is compared."""
    c, ch = conn_ch(t)
    x = t.name('x')
    ch.exchange_declare(x, 'direct', arguments={'x-foo': 'a',
                                                 'alternate-exchange': 'ae1'})
    ch.exchange_declare(x, 'direct', arguments={'x-foo': 'b',
                                                 'alternate-exchange': 'ae1'})
    ch.exchange_declare(x, 'direct', arguments={'alternate-exchange': 'ae1'})
    attempt(t, c, 'exchange_declare', x, 'direct',
            arguments={'alternate-exchange': 'ae2'})
    attempt(t, c, 'exchange_declare', x, 'direct', arguments={})


def scenario_default_exchange_403(t):
    """Every declare/delete/bind involving the default exchange is 403."""
    c, ch = conn_ch(t)
    q = t.name('q')
    ch.queue_declare(q)
    attempt(t, c, 'exchange_declare', '', 'direct')
    attempt(t, c, 'exchange_declare', '', 'direct', passive=True)
    attempt(t, c, 'exchange_delete', '')
    attempt(t, c, 'queue_bind', q, '', 'k')
    attempt(t, c, 'queue_unbind', q, '', 'k')


def scenario_default_exchange_e2e_403(t):
    """exchange.bind/unbind with the default exchange as either end."""
    c, ch = conn_ch(t)
    x = t.name('x')
    ch.exchange_declare(x, 'fanout')
    attempt(t, c, 'exchange_bind', x, '', 'k')
    attempt(t, c, 'exchange_bind', '', x, 'k')
    attempt(t, c, 'exchange_unbind', x, '', 'k')


def scenario_amq_prefix_403(t):
    """Creating an exchange whose name starts with amq. is refused; passive
    declares and identical redeclares of the predefined ones are fine."""
    c, ch = conn_ch(t)
    attempt(t, c, 'exchange_declare', 'amq.burrow-diff', 'direct')
    attempt(t, c, 'exchange_declare', 'amq.burrow-diff', 'direct',
            passive=True)
    attempt(t, c, 'exchange_declare', 'amq.direct', 'direct', passive=True)
    attempt(t, c, 'exchange_declare', 'amq.direct', 'direct', durable=True)
    attempt(t, c, 'exchange_declare', 'amq.topic', 'topic', durable=True)
    attempt(t, c, 'exchange_declare', 'amq.match', 'headers', durable=True)
    attempt(t, c, 'exchange_declare', 'amq.direct', 'direct')
    attempt(t, c, 'exchange_declare', 'amq.fanout', 'direct', durable=True)


def scenario_delete_system_exchange_403(t):
    """amq.* exchanges cannot be deleted (403)."""
    c, ch = conn_ch(t)
    for x in ('amq.direct', 'amq.fanout', 'amq.headers', 'amq.rabbitmq.trace'):
        attempt(t, c, 'exchange_delete', x)


def scenario_delete_missing_ok(t):
    """Deleting a missing exchange succeeds (also if_unused)."""
    c, ch = conn_ch(t)
    ch.exchange_delete(t.name('nope'))
    ch.exchange_delete(t.name('nope'), if_unused=True)


def scenario_delete_if_unused_queue_binding_406(t):
    """if_unused refuses while a queue is bound; succeeds after unbind."""
    c, ch = conn_ch(t)
    x, q = t.name('x'), t.name('q')
    ch.exchange_declare(x, 'direct')
    ch.queue_declare(q)
    ch.queue_bind(q, x, 'k')
    attempt(t, c, 'exchange_delete', x, if_unused=True)
    ch2 = c.channel()
    ch2.queue_unbind(q, x, 'k')
    ch2.exchange_delete(x, if_unused=True)
    ch2.exchange_declare(x, 'direct', passive=True)


def scenario_delete_if_unused_e2e_source_and_destination(t):
    """Only bindings with the exchange as source make it 'in use'."""
    c, ch = conn_ch(t)
    src, dst = t.name('src'), t.name('dst')
    ch.exchange_declare(src, 'direct')
    ch.exchange_declare(dst, 'direct')
    ch.exchange_bind(dst, src, 'k')
    attempt(t, c, 'exchange_delete', src, if_unused=True)
    ch2 = c.channel()
    ch2.exchange_delete(dst, if_unused=True)
    ch2.exchange_declare(dst, 'direct', passive=True)


def scenario_delete_removes_bindings(t):
    """Deleting an exchange removes its bindings; a new exchange with the
    same name routes nowhere."""
    c, ch = conn_ch(t, confirm=True)
    x, q = t.name('x'), t.name('q')
    ch.exchange_declare(x, 'direct')
    ch.queue_declare(q)
    ch.queue_bind(q, x, 'k')
    ch.exchange_delete(x)
    ch.exchange_declare(x, 'direct')
    probe(t, ch, x, 'k', [q])


def scenario_publish_missing_exchange_404(t):
    """Publishing to a missing exchange closes the channel with 404 (with and
    without confirms)."""
    c, ch = conn_ch(t)
    ch.publish(t.name('nope'), 'k', 'm')
    ch.sync()
    c2, ch2 = conn_ch(t, confirm=True)
    ch2.publish(t.name('nope'), 'k', 'm')


def scenario_bind_missing_404(t):
    """queue.bind with a missing exchange or queue is a 404."""
    c, ch = conn_ch(t)
    x, q = t.name('x'), t.name('q')
    ch.exchange_declare(x, 'direct')
    ch.queue_declare(q)
    attempt(t, c, 'queue_bind', q, t.name('nox'), 'k')
    attempt(t, c, 'queue_bind', t.name('noq'), x, 'k')
    attempt(t, c, 'queue_bind', t.name('noq'), t.name('nox'), 'k')


def scenario_unbind_missing_ok(t):
    """queue.unbind of a missing binding, queue or exchange succeeds."""
    c, ch = conn_ch(t)
    x, q = t.name('x'), t.name('q')
    ch.exchange_declare(x, 'direct')
    ch.queue_declare(q)
    ch.queue_unbind(q, x, 'nokey')
    ch.queue_unbind(t.name('noq'), x, 'k')
    ch.queue_unbind(q, t.name('nox'), 'k')


def scenario_internal_publish_403(t):
    """Publishing to an internal exchange is refused with 403."""
    c, ch = conn_ch(t)
    x = t.name('x')
    ch.exchange_declare(x, 'fanout', internal=True)
    ch.publish(x, 'k', 'm')
    ch.sync()
    c2, ch2 = conn_ch(t, confirm=True)
    ch2.publish(x, 'k', 'm', mandatory=True)


def scenario_internal_reachable_via_e2e(t):
    """An internal exchange still routes what other exchanges send it."""
    c, ch = conn_ch(t, confirm=True)
    front, inner, q = t.name('front'), t.name('inner'), t.name('q')
    ch.exchange_declare(front, 'direct')
    ch.exchange_declare(inner, 'fanout', internal=True)
    ch.queue_declare(q)
    ch.queue_bind(q, inner, '')
    ch.exchange_bind(inner, front, 'k')
    probe(t, ch, front, 'k', [q])
    probe(t, ch, front, 'other', [q])


def scenario_auto_delete_after_last_unbind(t):
    """An auto-delete exchange is deleted when its last binding goes."""
    c, ch = conn_ch(t)
    x, q1, q2 = t.name('x'), t.name('q1'), t.name('q2')
    ch.exchange_declare(x, 'direct', auto_delete=True)
    ch.queue_declare(q1)
    ch.queue_declare(q2)
    ch.queue_bind(q1, x, 'a')
    ch.queue_bind(q2, x, 'b')
    ch.queue_unbind(q1, x, 'a')
    ch.exchange_declare(x, 'direct', passive=True)
    ch.queue_unbind(q2, x, 'b')
    attempt(t, c, 'exchange_declare', x, 'direct', passive=True)


def scenario_auto_delete_never_bound_stays(t):
    """An auto-delete exchange that never had a binding stays."""
    c, ch = conn_ch(t)
    x = t.name('x')
    ch.exchange_declare(x, 'fanout', auto_delete=True)
    t.sleep(0.1)
    ch.exchange_declare(x, 'fanout', passive=True)


def scenario_auto_delete_when_bound_queue_deleted(t):
    """Deleting the only bound queue removes the binding and so the
    auto-delete exchange."""
    c, ch = conn_ch(t)
    x, q = t.name('x'), t.name('q')
    ch.exchange_declare(x, 'fanout', auto_delete=True)
    ch.queue_declare(q)
    ch.queue_bind(q, x, '')
    ch.queue_delete(q)
    attempt(t, c, 'exchange_declare', x, 'fanout', passive=True)


def scenario_auto_delete_e2e(t):
    """Auto-delete counts bindings where the exchange is the source; an
    exchange that is only a destination is not deleted by unbinding."""
    c, ch = conn_ch(t)
    src, dst = t.name('src'), t.name('dst')
    ch.exchange_declare(src, 'fanout', auto_delete=True)
    ch.exchange_declare(dst, 'fanout', auto_delete=True)
    ch.exchange_bind(dst, src, '')
    ch.exchange_unbind(dst, src, '')
    attempt(t, c, 'exchange_declare', src, 'fanout', passive=True)
    attempt(t, c, 'exchange_declare', dst, 'fanout', passive=True)


def scenario_auto_delete_exclusive_queue_closed(t):
    """The binding of an exclusive queue disappears with its connection,
    taking the auto-delete exchange with it."""
    c, ch = conn_ch(t)
    x = t.name('x')
    ch.exchange_declare(x, 'fanout', auto_delete=True)
    owner, och = conn_ch(t)
    q = t.name('q')
    och.queue_declare(q, exclusive=True)
    och.queue_bind(q, x, '')
    owner.close()
    t.sleep(0.2)
    attempt(t, c, 'exchange_declare', x, 'fanout', passive=True)


def scenario_direct_routing(t):
    """Direct exchange: exact keys, duplicate bindings, case sensitivity, empty
    key."""
    c, ch = conn_ch(t, confirm=True)
    x, q1, q2 = t.name('x'), t.name('q1'), t.name('q2')
    ch.exchange_declare(x, 'direct')
    ch.queue_declare(q1)
    ch.queue_declare(q2)
    ch.queue_bind(q1, x, 'a')
    ch.queue_bind(q2, x, 'a')
    ch.queue_bind(q2, x, 'b')
    ch.queue_bind(q2, x, 'b')
    for rk in ('a', 'b', 'c', 'A', ''):
        probe(t, ch, x, rk, [q1, q2], body='to-' + rk)


def scenario_fanout_routing(t):
    """Fanout ignores routing keys; unbind needs the binding's key."""
    c, ch = conn_ch(t, confirm=True)
    x, q1, q2 = t.name('x'), t.name('q1'), t.name('q2')
    ch.exchange_declare(x, 'fanout')
    ch.queue_declare(q1)
    ch.queue_declare(q2)
    ch.queue_bind(q1, x, 'ignored')
    ch.queue_bind(q2, x, '')
    probe(t, ch, x, 'anything', [q1, q2])
    ch.queue_unbind(q1, x, 'other')
    probe(t, ch, x, '', [q1, q2])
    ch.queue_unbind(q1, x, 'ignored')
    probe(t, ch, x, '', [q1, q2])


def scenario_topic_routing(t):
    """Topic patterns with * and #, empty words and empty keys."""
    c, ch = conn_ch(t, confirm=True)
    x = t.name('x')
    ch.exchange_declare(x, 'topic')
    patterns = {'star': 'a.*.c', 'hash': 'a.#', 'all': '#', 'one': '*',
                'mid': 'a.#.c', 'exact': 'a.b.c'}
    queues = []
    for local, pattern in patterns.items():
        q = t.name('q-' + local)
        queues.append(q)
        ch.queue_declare(q)
        ch.queue_bind(q, x, pattern)
    for rk in ('a.b.c', 'a', 'a.c', 'a..c', '', 'b', 'a.b.b.c', 'a.b'):
        probe(t, ch, x, rk, queues, body=rk or '<empty>')


def scenario_mandatory_no_route(t):
    """Unroutable mandatory publish: basic.return 312 NO_ROUTE (with and
    without confirms); non-mandatory: silently dropped."""
    c, ch = conn_ch(t)
    x = t.name('x')
    ch.exchange_declare(x, 'direct')
    ch.publish(x, 'k', 'm1', mandatory=True, message_id='id1')
    ch.publish(x, 'k', 'm2')
    ch.sync()
    c2, ch2 = conn_ch(t, confirm=True)
    ch2.publish(x, 'k', 'm3', mandatory=True, headers={'h': long_(1)})
    ch2.publish(x, 'k', 'm4')
    ch2.publish('', t.name('noqueue'), 'm5', mandatory=True)
