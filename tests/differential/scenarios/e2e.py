"""Exchange-to-exchange bindings: bind/unbind, one copy per queue, each
exchange visited once, cycles."""

from ._util import conn_ch, attempt, probe


def scenario_bind_and_route(t):
    """A direct exchange bound to a fanout exchange routes through it."""
    c, ch = conn_ch(t, confirm=True)
    src, dst, q = t.name('src'), t.name('dst'), t.name('q')
    ch.exchange_declare(src, 'direct')
    ch.exchange_declare(dst, 'fanout')
    ch.queue_declare(q)
    ch.queue_bind(q, dst, '')
    ch.exchange_bind(dst, src, 'k')
    probe(t, ch, src, 'k', [q], body='k')
    probe(t, ch, src, 'other', [q], body='other')
    probe(t, ch, dst, 'other', [q], body='direct-to-dst')


def scenario_unbind(t):
    """exchange.unbind removes only the matching binding; unbinding twice is
    fine."""
    c, ch = conn_ch(t, confirm=True)
    src, dst, q = t.name('src'), t.name('dst'), t.name('q')
    ch.exchange_declare(src, 'direct')
    ch.exchange_declare(dst, 'fanout')
    ch.queue_declare(q)
    ch.queue_bind(q, dst, '')
    ch.exchange_bind(dst, src, 'k')
    ch.exchange_unbind(dst, src, 'other')
    probe(t, ch, src, 'k', [q], body='still-bound')
    ch.exchange_unbind(dst, src, 'k')
    probe(t, ch, src, 'k', [q], body='unbound')
    ch.exchange_unbind(dst, src, 'k')


def scenario_routing_key_passed_on(t):
    """The destination exchange routes with the message's routing key."""
    c, ch = conn_ch(t, confirm=True)
    src, dst = t.name('src'), t.name('dst')
    qa, qb = t.name('qa'), t.name('qb')
    ch.exchange_declare(src, 'topic')
    ch.exchange_declare(dst, 'direct')
    ch.queue_declare(qa)
    ch.queue_declare(qb)
    ch.queue_bind(qa, dst, 'a.x')
    ch.queue_bind(qb, dst, 'b.x')
    ch.exchange_bind(dst, src, '*.x')
    for rk in ('a.x', 'b.x', 'c.x', 'a.y'):
        probe(t, ch, src, rk, [qa, qb], body=rk)


def scenario_one_copy_several_paths(t):
    """A queue reached directly and through another exchange gets one
    copy."""
    c, ch = conn_ch(t, confirm=True)
    src, mid, q = t.name('src'), t.name('mid'), t.name('q')
    ch.exchange_declare(src, 'fanout')
    ch.exchange_declare(mid, 'fanout')
    ch.queue_declare(q)
    ch.queue_bind(q, src, '')
    ch.queue_bind(q, mid, '')
    ch.exchange_bind(mid, src, '')
    probe(t, ch, src, 'k', [q])


def scenario_diamond(t):
    """x1 -> x2 -> x4, x1 -> x3 -> x4: the queue on x4 gets one copy."""
    c, ch = conn_ch(t, confirm=True)
    xs = [t.name('x%d' % i) for i in range(1, 5)]
    for x in xs:
        ch.exchange_declare(x, 'fanout')
    q = t.name('q')
    ch.queue_declare(q)
    ch.queue_bind(q, xs[3], '')
    ch.exchange_bind(xs[1], xs[0], '')
    ch.exchange_bind(xs[2], xs[0], '')
    ch.exchange_bind(xs[3], xs[1], '')
    ch.exchange_bind(xs[3], xs[2], '')
    probe(t, ch, xs[0], 'k', [q])


def scenario_cycle(t):
    """x1 -> x2 -> x1: publishing terminates and each queue gets one
    copy."""
    c, ch = conn_ch(t, confirm=True)
    x1, x2 = t.name('x1'), t.name('x2')
    q1, q2 = t.name('q1'), t.name('q2')
    ch.exchange_declare(x1, 'fanout')
    ch.exchange_declare(x2, 'fanout')
    ch.queue_declare(q1)
    ch.queue_declare(q2)
    ch.queue_bind(q1, x1, '')
    ch.queue_bind(q2, x2, '')
    ch.exchange_bind(x2, x1, '')
    ch.exchange_bind(x1, x2, '')
    probe(t, ch, x1, 'k', [q1, q2], body='via-x1')
    probe(t, ch, x2, 'k', [q1, q2], body='via-x2')


def scenario_cycle_without_queues(t):
    """A cycle that reaches no queue: unroutable, returned if mandatory."""
    c, ch = conn_ch(t, confirm=True)
    x1, x2 = t.name('x1'), t.name('x2')
    ch.exchange_declare(x1, 'fanout')
    ch.exchange_declare(x2, 'fanout')
    ch.exchange_bind(x2, x1, '')
    ch.exchange_bind(x1, x2, '')
    ch.publish(x1, 'k', 'm', mandatory=True)


def scenario_self_binding(t):
    """An exchange bound to itself delivers one copy."""
    c, ch = conn_ch(t, confirm=True)
    x, q = t.name('x'), t.name('q')
    ch.exchange_declare(x, 'fanout')
    ch.queue_declare(q)
    ch.queue_bind(q, x, '')
    ch.exchange_bind(x, x, '')
    probe(t, ch, x, 'k', [q])


def scenario_bind_missing_404(t):
    """exchange.bind with a missing source or destination is a 404."""
    c, ch = conn_ch(t)
    x = t.name('x')
    ch.exchange_declare(x, 'fanout')
    attempt(t, c, 'exchange_bind', x, t.name('nosrc'), '')
    attempt(t, c, 'exchange_bind', t.name('nodst'), x, '')


def scenario_unbind_missing_ok(t):
    """exchange.unbind of missing bindings/exchanges succeeds."""
    c, ch = conn_ch(t)
    x = t.name('x')
    ch.exchange_declare(x, 'fanout')
    ch.exchange_unbind(t.name('y'), x, '')
    ch.exchange_unbind(x, t.name('y'), '')
    ch.exchange_unbind(x, x, 'k')


def scenario_mandatory_dead_end(t):
    """Routing to an exchange that routes nowhere is unroutable."""
    c, ch = conn_ch(t, confirm=True)
    src, dst = t.name('src'), t.name('dst')
    ch.exchange_declare(src, 'fanout')
    ch.exchange_declare(dst, 'direct')
    ch.exchange_bind(dst, src, '')
    ch.publish(src, 'k', 'm', mandatory=True)


def scenario_delete_destination_removes_binding(t):
    """Deleting the destination exchange removes the e2e binding; a new
    exchange of that name is not bound."""
    c, ch = conn_ch(t, confirm=True)
    src, dst, q = t.name('src'), t.name('dst'), t.name('q')
    ch.exchange_declare(src, 'fanout')
    ch.exchange_declare(dst, 'fanout')
    ch.exchange_bind(dst, src, '')
    ch.exchange_delete(dst)
    ch.exchange_declare(dst, 'fanout')
    ch.queue_declare(q)
    ch.queue_bind(q, dst, '')
    probe(t, ch, src, 'k', [q])
    ch.exchange_delete(src, if_unused=True)


def scenario_headers_to_direct(t):
    """A headers exchange bound to a direct exchange with header args."""
    c, ch = conn_ch(t, confirm=True)
    hx, dx, q = t.name('hx'), t.name('dx'), t.name('q')
    ch.exchange_declare(hx, 'headers')
    ch.exchange_declare(dx, 'direct')
    ch.queue_declare(q)
    ch.queue_bind(q, dx, 'rk')
    ch.exchange_bind(dx, hx, '', arguments={'kind': 'a'})
    probe(t, ch, hx, 'rk', [q], body='kind-a', headers={'kind': 'a'})
    probe(t, ch, hx, 'rk', [q], body='kind-b', headers={'kind': 'b'})
    probe(t, ch, hx, 'other', [q], body='kind-a-other-rk',
          headers={'kind': 'a'})
