"""alternate-exchange: used only when the exchange's own bindings route
nowhere; mandatory with AE; chains and cycles."""

from ._util import conn_ch, attempt, probe, long_


def _main_with_ae(t, ch, main_type='direct'):
    x, ae = t.name('main'), t.name('ae')
    qmain, qae = t.name('qmain'), t.name('qae')
    ch.exchange_declare(ae, 'fanout')
    ch.exchange_declare(x, main_type, arguments={'alternate-exchange': ae})
    ch.queue_declare(qmain)
    ch.queue_declare(qae)
    ch.queue_bind(qae, ae, '')
    return x, ae, qmain, qae


def scenario_used_when_unroutable(t):
    """Routed messages stay on the main exchange; unroutable ones go to the AE.
"""
    c, ch = conn_ch(t, confirm=True)
    x, ae, qmain, qae = _main_with_ae(t, ch)
    ch.queue_bind(qmain, x, 'k')
    probe(t, ch, x, 'k', [qmain, qae], body='routed')
    probe(t, ch, x, 'other', [qmain, qae], body='unroutable')


def scenario_mandatory_satisfied_by_ae(t):
    """A message routed by the AE is not returned."""
    c, ch = conn_ch(t, confirm=True)
    x, ae, qmain, qae = _main_with_ae(t, ch)
    ch.publish(x, 'nothing', 'm', mandatory=True)
    ch.get_all(qae)


def scenario_ae_routes_nowhere(t):
    """An AE that routes nowhere: dropped, returned if mandatory (with the
    original exchange and routing key)."""
    c, ch = conn_ch(t, confirm=True)
    x, ae = t.name('main'), t.name('ae')
    ch.exchange_declare(ae, 'direct')
    ch.exchange_declare(x, 'direct', arguments={'alternate-exchange': ae})
    ch.publish(x, 'k', 'm', mandatory=True)


def scenario_missing_ae(t):
    """An alternate-exchange that does not exist is ignored."""
    c, ch = conn_ch(t, confirm=True)
    x = t.name('main')
    ch.exchange_declare(x, 'direct',
                        arguments={'alternate-exchange': t.name('absent')})
    ch.publish(x, 'k', 'm1', mandatory=True)
    ch.publish(x, 'k', 'm2')


def scenario_not_used_when_e2e_dead_end(t):
    """The source's own binding to an exchange that routes nowhere counts
    as routed: the source's AE is not used."""
    c, ch = conn_ch(t, confirm=True)
    x, ae, qmain, qae = _main_with_ae(t, ch)
    dead = t.name('dead')
    ch.exchange_declare(dead, 'direct')
    ch.exchange_bind(dead, x, 'k')
    probe(t, ch, x, 'k', [qmain, qae], body='to-dead-end')
    probe(t, ch, x, 'z', [qmain, qae], body='no-binding')


def scenario_destination_ae_used(t):
    """An exchange reached through an e2e binding uses its own AE."""
    c, ch = conn_ch(t, confirm=True)
    src = t.name('src')
    x, ae, qmain, qae = _main_with_ae(t, ch)
    ch.exchange_declare(src, 'fanout')
    ch.exchange_bind(x, src, '')
    probe(t, ch, src, 'unbound-key', [qmain, qae])


def scenario_chain(t):
    """main -> AE1 (routes nowhere) -> AE2."""
    c, ch = conn_ch(t, confirm=True)
    x, ae1, ae2, q = t.name('main'), t.name('ae1'), t.name('ae2'), t.name('q')
    ch.exchange_declare(ae2, 'fanout')
    ch.exchange_declare(ae1, 'direct', arguments={'alternate-exchange': ae2})
    ch.exchange_declare(x, 'direct', arguments={'alternate-exchange': ae1})
    ch.queue_declare(q)
    ch.queue_bind(q, ae2, '')
    probe(t, ch, x, 'k', [q])


def scenario_cycle(t):
    """Two exchanges that are each other's AE, neither routes: the message
    is dropped (returned if mandatory) and nothing hangs."""
    c, ch = conn_ch(t, confirm=True)
    a, b = t.name('a'), t.name('b')
    ch.exchange_declare(a, 'direct', arguments={'alternate-exchange': b})
    ch.exchange_declare(b, 'direct', arguments={'alternate-exchange': a})
    ch.publish(a, 'k', 'm', mandatory=True)
    q = t.name('q')
    ch.queue_declare(q)
    ch.queue_bind(q, b, 'k')
    probe(t, ch, a, 'k', [q], body='via-b')


def scenario_fanout_without_bindings(t):
    """A fanout exchange with no bindings uses its AE."""
    c, ch = conn_ch(t, confirm=True)
    x, ae = t.name('main'), t.name('ae')
    q = t.name('q')
    ch.exchange_declare(ae, 'fanout')
    ch.exchange_declare(x, 'fanout', arguments={'alternate-exchange': ae})
    ch.queue_declare(q)
    ch.queue_bind(q, ae, '')
    probe(t, ch, x, 'k', [q])


def scenario_ae_argument_types(t):
    """A non-string alternate-exchange argument."""
    c, ch = conn_ch(t, confirm=True)
    x = t.name('main')
    r = attempt(t, c, 'exchange_declare', x, 'direct',
                arguments={'alternate-exchange': long_(1)})
    if r:
        ch2 = c.channel()
        ch2.confirm_select()
        ch2.publish(x, 'k', 'm', mandatory=True)
