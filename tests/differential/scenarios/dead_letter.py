"""Dead-lettering: reasons rejected/expired/maxlen, x-death contents and
updates, x-first-death-*, cycles, CC/BCC, routing-key override, expiration
cleared."""

from ._util import conn_ch, long_


def _q(t, ch, local, **args):
    q = t.name(local)
    ch.queue_declare(q, arguments={k: long_(v) if isinstance(v, int)
                                   and not isinstance(v, bool) else v
                                   for k, v in args.items()})
    return q


def _dl_pair(t, ch, local='q', dlrk=True, **extra):
    """A queue dead-lettering via the default exchange into <p>.dlq."""
    dlq = _q(t, ch, 'dlq')
    args = {'x-dead-letter-exchange': ''}
    if dlrk:
        args['x-dead-letter-routing-key'] = dlq
    args.update(extra)
    return _q(t, ch, local, **args), dlq


def scenario_reject_rejected(t):
    """basic.reject requeue=false: x-death reason rejected and the
    x-first-death-* headers."""
    c, ch = conn_ch(t, confirm=True)
    q, dlq = _dl_pair(t, ch)
    ch.publish('', q, 'm1', headers={'app': 'v'}, message_id='id-1')
    tag = ch.get(q)
    ch.reject(tag, requeue=False)
    t.wait_count(dlq, 1)
    ch.get(dlq, auto_ack=True)


def scenario_nack_rejected(t):
    """basic.nack multiple requeue=false dead-letters every message in order.
"""
    c, ch = conn_ch(t, confirm=True)
    q, dlq = _dl_pair(t, ch)
    ch.publish('', q, 'm1')
    ch.publish('', q, 'm2')
    ch.publish('', q, 'm3')
    ch.get(q)
    ch.get(q)
    tag = ch.get(q)
    ch.nack(tag, multiple=True, requeue=False)
    t.wait_count(dlq, 3)
    ch.get_all(dlq)


def scenario_reject_requeue_true_no_dl(t):
    """A requeueing reject does not dead-letter."""
    c, ch = conn_ch(t, confirm=True)
    q, dlq = _dl_pair(t, ch)
    ch.publish('', q, 'm1')
    tag = ch.get(q)
    ch.reject(tag, requeue=True)
    t.sleep(0.2)
    ch.get(dlq)
    ch.get(q, auto_ack=True)


def scenario_consumer_nack_rejected(t):
    """Dead-lettering from a consumer's basic.nack."""
    c, ch = conn_ch(t)
    q, dlq = _dl_pair(t, ch)
    ch.consume(q, 'c1')
    pub = c.channel()
    pub.confirm_select()
    pub.publish('', q, 'm1', correlation_id='corr')
    t.wait_until(lambda: len(ch.deliveries) >= 1)
    ch.nack(ch.deliveries[0]['delivery_tag'], requeue=False)
    t.wait_count(dlq, 1)
    pub.get(dlq, auto_ack=True)


def scenario_expired_queue_ttl(t):
    """Queue TTL expiry: reason expired, no original-expiration."""
    c, ch = conn_ch(t, confirm=True)
    q, dlq = _dl_pair(t, ch, **{'x-message-ttl': 150})
    ch.publish('', q, 'm1')
    t.sleep(0.6)
    ch.get(dlq, auto_ack=True)


def scenario_expired_per_message(t):
    """Per-message TTL expiry: original-expiration recorded, the expiration
    property removed."""
    c, ch = conn_ch(t, confirm=True)
    q, dlq = _dl_pair(t, ch)
    ch.publish('', q, 'm1', expiration='150', priority=3,
               content_type='text/plain')
    t.sleep(0.6)
    ch.get(dlq, auto_ack=True)


def scenario_expired_message_and_queue_ttl(t):
    """Both TTLs set, the message's is smaller."""
    c, ch = conn_ch(t, confirm=True)
    q, dlq = _dl_pair(t, ch, **{'x-message-ttl': 60000})
    ch.publish('', q, 'm1', expiration='100')
    t.sleep(0.6)
    ch.get(dlq, auto_ack=True)


def scenario_maxlen_reason(t):
    """The head dropped by x-max-length is dead-lettered with reason maxlen."""
    c, ch = conn_ch(t, confirm=True)
    q, dlq = _dl_pair(t, ch, **{'x-max-length': 1})
    ch.publish('', q, 'm1')
    ch.publish('', q, 'm2')
    t.wait_count(dlq, 1)
    ch.get_all(dlq)


def scenario_keeps_routing_key_without_dlrk(t):
    """Without x-dead-letter-routing-key the original routing key is
    used."""
    c, ch = conn_ch(t, confirm=True)
    dlx = t.name('dlx')
    ch.exchange_declare(dlx, 'direct')
    q = _q(t, ch, 'q', **{'x-dead-letter-exchange': dlx})
    dlq = _q(t, ch, 'dlq')
    ch.queue_bind(dlq, dlx, q)
    x = t.name('x')
    ch.exchange_declare(x, 'direct')
    ch.queue_bind(q, x, 'orig')
    ch.queue_bind(dlq, dlx, 'orig')
    ch.publish(x, 'orig', 'm1')
    tag = ch.get(q)
    ch.reject(tag, requeue=False)
    t.wait_count(dlq, 1)
    t.sleep(0.1)
    ch.get_all(dlq)


def scenario_dlrk_replaces_routing_key(t):
    """x-dead-letter-routing-key replaces the routing key on a topic DLX."""
    c, ch = conn_ch(t, confirm=True)
    dlx = t.name('dlx')
    ch.exchange_declare(dlx, 'topic')
    dlq = _q(t, ch, 'dlq')
    ch.queue_bind(dlq, dlx, 'dead.#')
    q = _q(t, ch, 'q', **{'x-dead-letter-exchange': dlx,
                          'x-dead-letter-routing-key': 'dead.letter'})
    x = t.name('x')
    ch.exchange_declare(x, 'topic')
    ch.queue_bind(q, x, 'a.*')
    ch.publish(x, 'a.b', 'm1')
    tag = ch.get(q)
    ch.reject(tag, requeue=False)
    t.wait_count(dlq, 1)
    ch.get_all(dlq)


def scenario_missing_dlx_drops(t):
    """A DLX that does not exist: the message is dropped."""
    c, ch = conn_ch(t, confirm=True)
    q = _q(t, ch, 'q', **{'x-dead-letter-exchange': t.name('nodlx')})
    ch.publish('', q, 'm1')
    tag = ch.get(q)
    ch.reject(tag, requeue=False)
    t.sleep(0.2)
    ch.queue_declare(q, passive=True)


def scenario_dlx_routes_nowhere(t):
    """A DLX that routes the message nowhere: it is dropped."""
    c, ch = conn_ch(t, confirm=True)
    dlx = t.name('dlx')
    ch.exchange_declare(dlx, 'direct')
    q = _q(t, ch, 'q', **{'x-dead-letter-exchange': dlx})
    ch.publish('', q, 'm1')
    tag = ch.get(q)
    ch.reject(tag, requeue=False)
    t.sleep(0.2)
    ch.queue_declare(q, passive=True)


def scenario_fanout_dlx_several_queues(t):
    """A fanout DLX delivers the dead letter to every bound queue."""
    c, ch = conn_ch(t, confirm=True)
    dlx = t.name('dlx')
    ch.exchange_declare(dlx, 'fanout')
    d1, d2 = _q(t, ch, 'd1'), _q(t, ch, 'd2')
    ch.queue_bind(d1, dlx, '')
    ch.queue_bind(d2, dlx, '')
    q = _q(t, ch, 'q', **{'x-dead-letter-exchange': dlx})
    ch.publish('', q, 'm1')
    ch.reject(ch.get(q), requeue=False)
    t.wait_count(d1, 1)
    t.wait_count(d2, 1)
    ch.get_all(d1)
    ch.get_all(d2)


def scenario_repeated_count_moves_to_front(t):
    """qa -rejected-> qb -rejected-> qa -rejected-> qb: the {qa, rejected}
    entry's count becomes 2 and it moves to the front; x-first-death-*
    keep the first values."""
    c, ch = conn_ch(t, confirm=True)
    qa, qb = t.name('qa'), t.name('qb')
    ch.queue_declare(qa, arguments={'x-dead-letter-exchange': '',
                                    'x-dead-letter-routing-key': qb})
    ch.queue_declare(qb, arguments={'x-dead-letter-exchange': '',
                                    'x-dead-letter-routing-key': qa})
    ch.publish('', qa, 'm1')
    ch.reject(ch.get(qa), requeue=False)
    t.wait_count(qb, 1)
    ch.reject(ch.get(qb), requeue=False)
    t.wait_count(qa, 1)
    ch.reject(ch.get(qa), requeue=False)
    t.wait_count(qb, 1)
    ch.reject(ch.get(qb), requeue=False)
    t.wait_count(qa, 1)
    ch.get(qa, auto_ack=True)


def scenario_repeated_reject_expire_cycle(t):
    """q1 -rejected-> q2 -expired-> q1 -rejected-> q2 -expired-> q1: both
    entries reach count 2."""
    c, ch = conn_ch(t, confirm=True)
    q1, q2 = t.name('q1'), t.name('q2')
    ch.queue_declare(q1, arguments={'x-dead-letter-exchange': '',
                                    'x-dead-letter-routing-key': q2})
    ch.queue_declare(q2, arguments={'x-dead-letter-exchange': '',
                                    'x-dead-letter-routing-key': q1,
                                    'x-message-ttl': long_(100)})
    ch.publish('', q1, 'm1')
    ch.reject(ch.get(q1), requeue=False)
    t.sleep(0.5)
    tag = ch.get(q1)
    ch.reject(tag, requeue=False)
    t.sleep(0.5)
    ch.get(q1, auto_ack=True)
    ch.queue_declare(q2, passive=True)


def scenario_automatic_cycle_dropped(t):
    """A queue dead-lettering expired messages to itself: the cycle is
    detected and the message dropped."""
    c, ch = conn_ch(t, confirm=True)
    q = t.name('q')
    ch.queue_declare(q, arguments={'x-dead-letter-exchange': '',
                                   'x-message-ttl': long_(100)})
    ch.publish('', q, 'm1')
    t.sleep(0.6)
    ch.queue_declare(q, passive=True)
    ch.get(q)


def scenario_two_queue_automatic_cycle(t):
    """q1 -expired-> q2 -expired-> (q1: cycle) dropped."""
    c, ch = conn_ch(t, confirm=True)
    q1, q2 = t.name('q1'), t.name('q2')
    ch.queue_declare(q1, arguments={'x-dead-letter-exchange': '',
                                    'x-dead-letter-routing-key': q2,
                                    'x-message-ttl': long_(100)})
    ch.queue_declare(q2, arguments={'x-dead-letter-exchange': '',
                                    'x-dead-letter-routing-key': q1,
                                    'x-message-ttl': long_(100)})
    ch.publish('', q1, 'm1')
    t.sleep(0.8)
    ch.get(q1)
    ch.get(q2)


def scenario_cycle_through_rejection_allowed(t):
    """A cycle containing a rejection is not cut: the message comes back
    to q1 with both entries."""
    c, ch = conn_ch(t, confirm=True)
    q1, q2 = t.name('q1'), t.name('q2')
    ch.queue_declare(q1, arguments={'x-dead-letter-exchange': '',
                                    'x-dead-letter-routing-key': q2})
    ch.queue_declare(q2, arguments={'x-dead-letter-exchange': '',
                                    'x-dead-letter-routing-key': q1,
                                    'x-message-ttl': long_(100)})
    ch.publish('', q1, 'm1')
    ch.reject(ch.get(q1), requeue=False)
    t.sleep(0.5)
    ch.get(q1, auto_ack=True)


def scenario_self_reject_allowed(t):
    """Rejecting into the same queue (reason rejected) is never a cycle."""
    c, ch = conn_ch(t, confirm=True)
    q = t.name('q')
    ch.queue_declare(q, arguments={'x-dead-letter-exchange': ''})
    ch.publish('', q, 'm1')
    ch.reject(ch.get(q), requeue=False)
    t.wait_count(q, 1)
    ch.reject(ch.get(q), requeue=False)
    t.wait_count(q, 1)
    ch.get(q, auto_ack=True)


def scenario_cc_bcc(t):
    """routing-keys in x-death include CC keys but not BCC; the CC header
    stays, BCC is removed."""
    c, ch = conn_ch(t, confirm=True)
    x = t.name('x')
    ch.exchange_declare(x, 'direct')
    dlq = t.name('dlq')
    ch.queue_declare(dlq)
    q = _q(t, ch, 'q', **{'x-dead-letter-exchange': '',
                          'x-dead-letter-routing-key': dlq})
    ch.queue_bind(q, x, 'main')
    ch.publish(x, 'main', 'm1', headers={'CC': ['cc1', 'cc2'],
                                         'BCC': ['bcc1']})
    ch.reject(ch.get(q), requeue=False)
    t.wait_count(dlq, 1)
    ch.get_all(dlq)


def scenario_cc_without_dlrk(t):
    """Without a dead-letter routing key the message is re-routed with its
    original key and its CC keys."""
    c, ch = conn_ch(t, confirm=True)
    x, dlx = t.name('x'), t.name('dlx')
    ch.exchange_declare(x, 'direct')
    ch.exchange_declare(dlx, 'direct')
    q = _q(t, ch, 'q', **{'x-dead-letter-exchange': dlx})
    ch.queue_bind(q, x, 'main')
    dmain, dcc = _q(t, ch, 'd-main'), _q(t, ch, 'd-cc')
    ch.queue_bind(dmain, dlx, 'main')
    ch.queue_bind(dcc, dlx, 'cc1')
    ch.publish(x, 'main', 'm1', headers={'CC': ['cc1']})
    ch.reject(ch.get(q), requeue=False)
    t.wait_count(dmain, 1)
    t.wait_count(dcc, 1)
    ch.get_all(dmain)
    ch.get_all(dcc)


def scenario_properties_preserved(t):
    """All properties but expiration survive dead-lettering."""
    c, ch = conn_ch(t, confirm=True)
    q, dlq = _dl_pair(t, ch)
    ch.publish('', q, 'm1', content_type='application/json',
               content_encoding='utf-8', headers={'k': long_(7)},
               delivery_mode=2, priority=4, correlation_id='c-1',
               reply_to='rq', expiration='60000', message_id='m-1',
               timestamp=1600000000, type='t', user_id='guest',
               app_id='app', cluster_id='cl')
    ch.reject(ch.get(q), requeue=False)
    t.wait_count(dlq, 1)
    ch.get(dlq, auto_ack=True)


def scenario_client_republish_increments(t):
    """A client that republishes a dead-lettered message (with its x-death
    header) and dead-letters it again from the same queue: count 2."""
    c, ch = conn_ch(t, confirm=True)
    q, dlq = _dl_pair(t, ch)
    ch.publish('', q, 'm1')
    ch.reject(ch.get(q), requeue=False)
    t.wait_count(dlq, 1)
    method, props, body = ch.ch.basic_get(dlq, auto_ack=True)
    if method is None:
        t.log('dead_letter_missing')
        return
    ch.publish('', q, body, headers=props.headers)
    ch.reject(ch.get(q), requeue=False)
    t.wait_count(dlq, 1)
    ch.get(dlq, auto_ack=True)


def scenario_non_array_x_death_reset(t):
    """A client-supplied x-death that is not an array is replaced."""
    c, ch = conn_ch(t, confirm=True)
    q, dlq = _dl_pair(t, ch)
    ch.publish('', q, 'm1', headers={'x-death': 'bogus',
                                     'x-first-death-reason': 'mine'})
    ch.reject(ch.get(q), requeue=False)
    t.wait_count(dlq, 1)
    ch.get(dlq, auto_ack=True)


def scenario_purge_and_delete_do_not_dead_letter(t):
    """queue.purge and queue.delete drop messages without dead-lettering."""
    c, ch = conn_ch(t, confirm=True)
    q, dlq = _dl_pair(t, ch)
    ch.publish('', q, 'm1')
    ch.publish('', q, 'm2')
    ch.queue_purge(q)
    ch.publish('', q, 'm3')
    ch.queue_delete(q)
    t.sleep(0.2)
    ch.get(dlq)


def scenario_channel_close_requeues_not_dead_letters(t):
    """Closing a channel requeues its unacked messages; nothing is dead-
    lettered."""
    c, ch = conn_ch(t, confirm=True)
    q, dlq = _dl_pair(t, ch)
    ch.publish('', q, 'm1')
    cons = c.channel()
    cons.get(q)
    cons.close()
    t.sleep(0.2)
    ch.get(dlq)
    ch.get(q, auto_ack=True)


def scenario_dead_letter_to_exchange_with_ae(t):
    """A DLX with an alternate exchange: unroutable dead letters go to the
    AE."""
    c, ch = conn_ch(t, confirm=True)
    ae, dlx = t.name('ae'), t.name('dlx')
    ch.exchange_declare(ae, 'fanout')
    ch.exchange_declare(dlx, 'direct', arguments={'alternate-exchange': ae})
    aeq = _q(t, ch, 'aeq')
    ch.queue_bind(aeq, ae, '')
    q = _q(t, ch, 'q', **{'x-dead-letter-exchange': dlx})
    ch.publish('', q, 'm1')
    ch.reject(ch.get(q), requeue=False)
    t.wait_count(aeq, 1)
    ch.get(aeq, auto_ack=True)


def scenario_dead_letter_priority_queue(t):
    """Dead-lettered into a priority queue: ordered by priority there."""
    c, ch = conn_ch(t, confirm=True)
    dlq = _q(t, ch, 'dlq', **{'x-max-priority': 5})
    q = _q(t, ch, 'q', **{'x-dead-letter-exchange': '',
                          'x-dead-letter-routing-key': dlq})
    for p in (1, 5, 3):
        ch.publish('', q, 'p%d' % p, priority=p)
    for _ in range(3):
        ch.get(q)
    ch.nack(0, multiple=True, requeue=False)
    t.wait_count(dlq, 3)
    ch.get_all(dlq)


def scenario_x_death_types(t):
    """Raw AMQP types of every x-death field (count long, time timestamp,
    routing-keys array of longstr, ...)."""
    c, ch = conn_ch(t, confirm=True)
    q, dlq = _dl_pair(t, ch)
    ch.publish('', q, 'm1', expiration='100', headers={'CC': ['c']})
    t.sleep(0.5)
    ch.get(dlq, auto_ack=True)
