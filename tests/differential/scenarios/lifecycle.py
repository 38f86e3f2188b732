"""Queue lifecycles: exclusive (405 from other connections, deleted with
the connection), auto-delete, queue.delete if-unused/if-empty, purge,
server-named queues and the empty-name shortcut, reserved names."""

import pika.spec as spec

from ._util import conn_ch, attempt


def _exclusive(t):
    owner = t.connect()
    och = owner.channel()
    q = t.name('excl')
    och.queue_declare(q, exclusive=True)
    return owner, och, q


def scenario_exclusive_declare_from_other_405(t):
    """Declaring another connection's exclusive queue (any flags, passive) is
    405."""
    owner, och, q = _exclusive(t)
    other = t.connect()
    attempt(t, other, 'queue_declare', q)
    attempt(t, other, 'queue_declare', q, exclusive=True)
    attempt(t, other, 'queue_declare', q, passive=True)


def scenario_exclusive_use_from_other_405(t):
    """consume/get/purge/delete/bind of another connection's exclusive queue
    are 405 (unbind is not)."""
    owner, och, q = _exclusive(t)
    other = t.connect()
    attempt(t, other, 'consume', q, 'c1')
    attempt(t, other, 'get', q)
    attempt(t, other, 'queue_purge', q)
    attempt(t, other, 'queue_delete', q)
    attempt(t, other, 'queue_bind', q, 'amq.fanout', '')
    attempt(t, other, 'queue_unbind', q, 'amq.fanout', '')


def scenario_exclusive_publish_from_other_ok(t):
    """Other connections may publish to an exclusive queue."""
    owner, och, q = _exclusive(t)
    other = t.connect()
    pch = other.channel()
    pch.confirm_select()
    pch.publish('', q, 'from-other', mandatory=True)
    och.get(q, auto_ack=True)


def scenario_exclusive_other_channel_same_connection(t):
    """Other channels of the owning connection may use the exclusive queue."""
    owner, och, q = _exclusive(t)
    ch2 = owner.channel()
    ch2.queue_declare(q, exclusive=True)
    ch2.consume(q, 'c1')
    ch3 = owner.channel()
    ch3.queue_bind(q, 'amq.fanout', '')
    ch3.queue_unbind(q, 'amq.fanout', '')


def scenario_exclusive_deleted_on_close(t):
    """An exclusive queue is deleted with its connection; the name is free
    again."""
    owner, och, q = _exclusive(t)
    och.publish('', q, 'm')
    owner.close()
    t.sleep(0.2)
    c, ch = conn_ch(t)
    ch.queue_declare(q, passive=True)
    c2, ch2 = conn_ch(t)
    ch2.queue_declare(q)


def scenario_exclusive_survives_channel_close(t):
    """Closing the declaring channel does not delete the exclusive queue."""
    owner, och, q = _exclusive(t)
    och.close()
    ch2 = owner.channel()
    ch2.queue_declare(q, passive=True)


def scenario_auto_delete_after_last_consumer(t):
    """An auto-delete queue is deleted when its last consumer is cancelled."""
    c, ch = conn_ch(t)
    q = t.name('q')
    ch.queue_declare(q, auto_delete=True)
    ch.consume(q, 'a')
    ch.consume(q, 'b')
    ch.cancel('a')
    ch.queue_declare(q, passive=True)
    ch.cancel('b')
    t.sleep(0.1)
    attempt(t, c, 'queue_declare', q, passive=True)


def scenario_auto_delete_never_consumed(t):
    """An auto-delete queue that never had a consumer stays (basic.get does not
    count)."""
    c, ch = conn_ch(t, confirm=True)
    q = t.name('q')
    ch.queue_declare(q, auto_delete=True)
    ch.publish('', q, 'm')
    ch.get(q, auto_ack=True)
    t.sleep(0.2)
    ch.queue_declare(q, passive=True)


def scenario_auto_delete_on_channel_close(t):
    """Closing the consumer's channel deletes the auto-delete queue."""
    c, ch = conn_ch(t)
    q = t.name('q')
    ch.queue_declare(q, auto_delete=True)
    cons = c.channel()
    cons.consume(q, 'a')
    cons.close()
    t.sleep(0.1)
    attempt(t, c, 'queue_declare', q, passive=True)


def scenario_auto_delete_with_messages(t):
    """An auto-delete queue is deleted with its messages (including the
    cancelled consumer's unacked ones)."""
    c, ch = conn_ch(t, confirm=True)
    q = t.name('q')
    ch.queue_declare(q, auto_delete=True)
    ch.publish('', q, 'm1')
    ch.publish('', q, 'm2')
    cons = c.channel()
    cons.qos(prefetch_count=1)
    cons.consume(q, 'a')
    t.wait_until(lambda: len(cons.deliveries) >= 1)
    cons.cancel('a')
    t.sleep(0.1)
    attempt(t, c, 'queue_declare', q, passive=True)
    cons.ack(cons.deliveries[0]['delivery_tag'])


def scenario_delete_if_unused(t):
    """queue.delete if_unused with a consumer is 406 'in use'."""
    c, ch = conn_ch(t)
    q = t.name('q')
    ch.queue_declare(q)
    ch.consume(q, 'c1')
    attempt(t, c, 'queue_delete', q, if_unused=True)
    ch.cancel('c1')
    ch.queue_delete(q, if_unused=True)


def scenario_delete_if_empty(t):
    """queue.delete if_empty with a ready message is 406 'not empty'."""
    c, ch = conn_ch(t, confirm=True)
    q = t.name('q')
    ch.queue_declare(q)
    ch.publish('', q, 'm1')
    attempt(t, c, 'queue_delete', q, if_empty=True)
    ch.get(q)
    ch.queue_delete(q, if_empty=True)


def scenario_delete_if_empty_unacked(t):
    """if_empty looks at ready messages: a queue whose only message is
    unacked counts as empty; delete-ok counts ready messages only."""
    c, ch = conn_ch(t, confirm=True)
    q, q2 = t.name('q'), t.name('q2')
    ch.queue_declare(q)
    ch.queue_declare(q2)
    ch.publish('', q, 'm1')
    ch.get(q)
    ch2 = c.channel()
    ch2.queue_delete(q, if_empty=True)
    ch.publish('', q2, 'm1')
    ch.publish('', q2, 'm2')
    ch.get(q2)
    attempt(t, c, 'queue_delete', q2, if_empty=True)
    ch3 = c.channel()
    ch3.queue_delete(q2)
    ch.ack(2)


def scenario_delete_counts_and_missing(t):
    """delete-ok message counts; deleting a missing queue succeeds."""
    c, ch = conn_ch(t, confirm=True)
    q = t.name('q')
    ch.queue_declare(q)
    for i in range(3):
        ch.publish('', q, 'm%d' % i)
    ch.queue_delete(q)
    ch.queue_delete(q)
    ch.queue_delete(q, if_empty=True, if_unused=True)


def scenario_purge_ready_only(t):
    """queue.purge removes ready messages only; purge of a missing queue is
    404."""
    c, ch = conn_ch(t, confirm=True)
    q = t.name('q')
    ch.queue_declare(q)
    for i in range(4):
        ch.publish('', q, 'm%d' % i)
    ch.get(q)
    ch.queue_purge(q)
    ch.queue_purge(q)
    ch.nack(1, requeue=True)
    ch.get(q, auto_ack=True)
    attempt(t, c, 'queue_purge', t.name('nope'))


def scenario_server_named_and_empty_name(t):
    """Server-named queues; '' on get/purge/bind/delete means the last
    queue declared on the channel."""
    c, ch = conn_ch(t, confirm=True)
    ok = ch.queue_declare('', exclusive=True)
    ch.publish('', ok.method.queue, 'm1')
    ch.get('', auto_ack=True)
    ch.queue_bind('', 'amq.fanout', '')
    ch.queue_unbind('', 'amq.fanout', '')
    ch.queue_purge('')
    ch.queue_delete('')
    attempt(t, c, 'queue_declare', '', passive=True)


def scenario_empty_name_without_declare_404(t):
    """'' without a previously declared queue: 404 'no previously declared
    queue' (passive declare differs)."""
    c = t.connect()
    attempt(t, c, 'get', '')
    attempt(t, c, 'consume', '', 'c1')
    attempt(t, c, 'queue_purge', '')
    attempt(t, c, 'queue_bind', '', 'amq.fanout', '')
    attempt(t, c, 'queue_delete', '')
    attempt(t, c, 'queue_declare', '', passive=True)


def scenario_amq_prefix_queue(t):
    """Declaring amq.* queues is 403; passive 404; delete of a missing one
    succeeds."""
    c = t.connect()
    attempt(t, c, 'queue_declare', 'amq.burrow-diff')
    attempt(t, c, 'queue_declare', 'amq.burrow-diff', passive=True)
    attempt(t, c, 'queue_delete', 'amq.burrow-diff')


def scenario_queue_name_edge_cases(t):
    """CR/LF are stripped from queue names (raw frames: pika waits for a
    declare-ok echoing the name it sent); 255-byte names work."""
    r = t.raw()
    r.open_channel(1)
    base = t.name('nl')
    r.call(1, spec.Queue.Declare(queue=base + '\r\nx'), 'queue.declare-ok')
    r.call(1, spec.Queue.Declare(queue=base + 'x', passive=True),
           'queue.declare-ok')
    r.call(1, spec.Queue.Delete(queue=base + 'x'), 'queue.delete-ok')
    c = t.connect()
    longname = t.name('L' * (255 - len(t.name(''))))
    attempt(t, c, 'queue_declare', longname)
    attempt(t, c, 'queue_delete', longname)


def scenario_queue_delete_cancels_consumers_counts(t):
    """queue.delete-ok message_count counts ready messages only."""
    c, ch = conn_ch(t, confirm=True)
    q = t.name('q')
    ch.queue_declare(q)
    for i in range(3):
        ch.publish('', q, 'm%d' % i)
    cons = c.channel()
    cons.qos(prefetch_count=1)
    cons.consume(q, 'c1')
    t.wait_until(lambda: len(cons.deliveries) >= 1)
    ch.queue_delete(q)
    t.wait_until(lambda: len(cons.pending) >= 1, settle=0.1)
    cons.ack(cons.deliveries[0]['delivery_tag'])
    t.sleep(0.1)
