"""Consumers: priorities (x-priority), exclusive consume, broker cancel
notifications, consumer tags (reuse 530, server-generated), prefetch_size,
basic.recover, acknowledgement errors."""

import pika.spec as spec

from ._util import conn_ch, attempt, long_, signed_int


def _queue(t, ch, local='q', **kw):
    q = t.name(local)
    ch.queue_declare(q, **kw)
    return q


def scenario_priority_higher_first(t):
    """The higher x-priority consumer gets messages while it has prefetch
    room; then the lower one."""
    priority_higher_first(t, _queue)


def priority_higher_first(t, declare):
    """scenario_priority_higher_first on the queue ``declare(t, channel)``
    makes (quorum.py runs it on a quorum queue)."""
    c = t.connect()
    setup = c.channel()
    q = declare(t, setup)
    lo = c.channel()
    lo.qos(prefetch_count=1)
    lo.consume(q, 'low', arguments={'x-priority': signed_int(0)})
    hi = c.channel()
    hi.qos(prefetch_count=1)
    hi.consume(q, 'high', arguments={'x-priority': signed_int(10)})
    setup.confirm_select()
    setup.publish('', q, 'm1')
    t.wait_until(lambda: len(hi.deliveries) >= 1)
    setup.publish('', q, 'm2')
    t.wait_until(lambda: len(lo.deliveries) >= 1)
    setup.publish('', q, 'm3')
    t.sleep(0.2)
    hi.ack(hi.deliveries[0]['delivery_tag'])
    t.wait_until(lambda: len(hi.deliveries) >= 2)
    setup.queue_declare(q, passive=True)


def scenario_priority_negative_and_long(t):
    """x-priority may be negative and of any integer type."""
    c = t.connect()
    setup = c.channel()
    q = _queue(t, setup)
    a = c.channel()
    a.qos(prefetch_count=1)
    a.consume(q, 'neg', arguments={'x-priority': long_(-5)})
    b = c.channel()
    b.qos(prefetch_count=1)
    b.consume(q, 'zero', arguments={})
    setup.confirm_select()
    setup.publish('', q, 'm1')
    t.wait_until(lambda: len(b.deliveries) >= 1)
    setup.publish('', q, 'm2')
    t.wait_until(lambda: len(a.deliveries) >= 1)


def scenario_priority_invalid_type(t):
    """A non-integer x-priority on basic.consume is a 406."""
    c, ch = conn_ch(t)
    q = _queue(t, ch)
    attempt(t, c, 'consume', q, 'c1', arguments={'x-priority': 'high'})
    attempt(t, c, 'consume', q, 'c2', arguments={'x-priority': True})


def scenario_equal_priority_round_robin(t):
    """Consumers of equal priority get messages round-robin."""
    c = t.connect()
    setup = c.channel()
    q = _queue(t, setup)
    a = c.channel()
    a.consume(q, 'a', auto_ack=True)
    b = c.channel()
    b.consume(q, 'b', auto_ack=True)
    setup.confirm_select()
    for i in range(1, 5):
        setup.publish('', q, 'm%d' % i)
    t.wait_until(lambda: len(a.deliveries) + len(b.deliveries) >= 4,
                 settle=0.1)


def scenario_exclusive_consume_blocks_others(t):
    """With an exclusive consumer, other consumes (any connection) get 403;
    basic.get still works."""
    c, ch = conn_ch(t)
    q = _queue(t, ch)
    ch.consume(q, 'excl', exclusive=True)
    other = t.connect()
    attempt(t, other, 'consume', q, 'second')
    attempt(t, other, 'consume', q, 'second-excl', exclusive=True)
    attempt(t, c, 'consume', q, 'same-conn')
    other_ch = other.channel()
    other_ch.get(q)


def scenario_exclusive_consume_when_consumed(t):
    """Exclusive consume while another consumer exists is 403; fine after it is
    cancelled."""
    c, ch = conn_ch(t)
    q = _queue(t, ch)
    ch.consume(q, 'plain')
    attempt(t, c, 'consume', q, 'excl', exclusive=True)
    ch.cancel('plain')
    ch2 = c.channel()
    ch2.consume(q, 'excl', exclusive=True)


def scenario_exclusive_consumer_cancel_frees(t):
    """Cancelling the exclusive consumer lets others consume."""
    c, ch = conn_ch(t)
    q = _queue(t, ch)
    ch.consume(q, 'excl', exclusive=True)
    ch.cancel('excl')
    other = t.connect()
    och = other.channel()
    och.consume(q, 'next')


def scenario_cancel_notify_on_queue_delete(t):
    """With consumer_cancel_notify the broker sends basic.cancel when the
    queue is deleted."""
    c, ch = conn_ch(t)
    q = _queue(t, ch)
    ch.consume(q, 'c1')
    ch.consume(q, 'c2', auto_ack=True)
    other = t.connect()
    och = other.channel()
    och.queue_delete(q)
    t.wait_until(lambda: len(ch.pending) >= 2, settle=0.2)
    ch.queue_declare(q, passive=True)


def scenario_cancel_notify_raw(t):
    """The broker's basic.cancel frame (raw) when the consuming channel
    itself deletes the queue: order against queue.delete-ok."""
    r = t.raw(capabilities={'consumer_cancel_notify': True})
    r.open_channel(1)
    q = t.name('q')
    r.call(1, spec.Queue.Declare(queue=q), 'queue.declare-ok')
    r.call(1, spec.Basic.Consume(queue=q, consumer_tag='ct'),
           'basic.consume-ok')
    r.call(1, spec.Queue.Delete(queue=q), 'queue.delete-ok')
    r.read(quiet=0.3, timeout=1.0)


def scenario_no_cancel_notify_without_capability(t):
    """Without the capability no basic.cancel is sent; the channel stays
    usable."""
    r = t.raw(capabilities={})
    r.open_channel(1)
    q = t.name('q')
    r.call(1, spec.Queue.Declare(queue=q), 'queue.declare-ok')
    r.call(1, spec.Basic.Consume(queue=q, consumer_tag='ct'),
           'basic.consume-ok')
    c, ch = conn_ch(t)
    ch.queue_delete(q)
    t.sleep(0.3)
    r.read(quiet=0.3, timeout=1.0)
    r.call(1, spec.Basic.Qos(prefetch_count=1), 'basic.qos-ok')
    r.call(1, spec.Basic.Cancel(consumer_tag='ct'), 'basic.cancel-ok')


def scenario_tag_reuse_530(t):
    """Reusing a consumer tag on the same channel is a connection error 530."""
    r = t.raw()
    r.open_channel(1)
    q = t.name('q')
    r.call(1, spec.Queue.Declare(queue=q), 'queue.declare-ok')
    r.call(1, spec.Basic.Consume(queue=q, consumer_tag='dup'),
           'basic.consume-ok')
    r.call(1, spec.Basic.Consume(queue=q, consumer_tag='dup'),
           'basic.consume-ok')


def scenario_tag_reuse_other_channel_ok(t):
    """Consumer tags are per channel; a cancelled tag can be reused."""
    r = t.raw()
    r.open_channel(1)
    r.open_channel(2)
    q = t.name('q')
    r.call(1, spec.Queue.Declare(queue=q), 'queue.declare-ok')
    r.call(1, spec.Basic.Consume(queue=q, consumer_tag='dup'),
           'basic.consume-ok')
    r.call(2, spec.Basic.Consume(queue=q, consumer_tag='dup'),
           'basic.consume-ok')
    r.call(1, spec.Basic.Cancel(consumer_tag='dup'), 'basic.cancel-ok')
    r.call(1, spec.Basic.Consume(queue=q, consumer_tag='dup'),
           'basic.consume-ok')


def scenario_server_generated_tags(t):
    """An empty consumer tag gets an amq.ctag-... tag from the server."""
    r = t.raw()
    r.open_channel(1)
    q = t.name('q')
    r.call(1, spec.Queue.Declare(queue=q), 'queue.declare-ok')
    r.call(1, spec.Basic.Consume(queue=q, consumer_tag=''),
           'basic.consume-ok')
    r.call(1, spec.Basic.Consume(queue=q, consumer_tag=''),
           'basic.consume-ok')
    r.send(1, spec.Basic.Publish(exchange='', routing_key=q),
           spec.BasicProperties(), b'hello')
    r.read(until={'basic.deliver'}, timeout=2.0)


def scenario_cancel_unknown_tag(t):
    """basic.cancel of an unknown tag is answered with cancel-ok."""
    r = t.raw()
    r.open_channel(1)
    r.call(1, spec.Basic.Cancel(consumer_tag='never-was'), 'basic.cancel-ok')


def scenario_consume_nowait(t):
    """basic.consume nowait: no consume-ok; deliveries still flow; a
    nowait cancel gets no cancel-ok."""
    r = t.raw()
    r.open_channel(1)
    q = t.name('q')
    r.call(1, spec.Queue.Declare(queue=q), 'queue.declare-ok')
    r.send(1, spec.Basic.Consume(queue=q, consumer_tag='nw', no_ack=True,
                                 nowait=True))
    r.send(1, spec.Basic.Publish(exchange='', routing_key=q),
           spec.BasicProperties(), b'x')
    r.read(until={'basic.deliver'}, timeout=2.0)
    r.send(1, spec.Basic.Cancel(consumer_tag='nw', nowait=True))
    r.call(1, spec.Basic.Qos(prefetch_count=0), 'basic.qos-ok')


def scenario_cancel_keeps_unacked(t):
    """Cancelling does not requeue the consumer's unacked messages; they
    can still be acked (or are requeued when the channel closes)."""
    c, ch = conn_ch(t)
    q = _queue(t, ch)
    ch.consume(q, 'c1')
    pub = c.channel()
    pub.confirm_select()
    pub.publish('', q, 'm1')
    pub.publish('', q, 'm2')
    t.wait_until(lambda: len(ch.deliveries) >= 2)
    ch.cancel('c1')
    pub.queue_declare(q, passive=True)
    ch.ack(ch.deliveries[0]['delivery_tag'])
    ch.close()
    pub.queue_declare(q, passive=True)
    pub.get(q, auto_ack=True)


def scenario_prefetch_size_540(t):
    """basic.qos prefetch_size != 0 is a connection error 540."""
    c, ch = conn_ch(t)
    ch.qos(prefetch_size=4096, prefetch_count=10)


def scenario_qos_ok_values(t):
    """basic.qos with 0, 65535 and global prefetch counts."""
    c, ch = conn_ch(t)
    ch.qos(prefetch_count=0)
    ch.qos(prefetch_count=65535)
    ch.qos(prefetch_count=5, global_qos=True)


def scenario_recover_requeue_false_540(t):
    """basic.recover requeue=false is a connection error 540; the message is
    requeued."""
    c, ch = conn_ch(t, confirm=True)
    q = _queue(t, ch)
    ch.publish('', q, 'm1')
    ch.get(q)
    ch.recover(requeue=False)
    c2, ch2 = conn_ch(t)
    ch2.get(q, auto_ack=True)


def scenario_recover_requeue_true(t):
    """basic.recover requeue=true redelivers unacked messages in order."""
    c, ch = conn_ch(t, confirm=True)
    q = _queue(t, ch)
    ch.publish('', q, 'm1')
    ch.publish('', q, 'm2')
    ch.get(q)
    ch.get(q)
    ch.recover(requeue=True)
    ch.get_all(q, auto_ack=False)
    ch.ack(0, multiple=True)


def scenario_recover_async_raw(t):
    """basic.recover-async (deprecated) requeue=true works, false is 540."""
    r = t.raw()
    r.open_channel(1)
    q = t.name('q')
    r.call(1, spec.Queue.Declare(queue=q), 'queue.declare-ok')
    r.send(1, spec.Basic.Publish(exchange='', routing_key=q),
           spec.BasicProperties(), b'm')
    r.call(1, spec.Basic.Get(queue=q, no_ack=False), 'basic.get-ok')
    r.send(1, spec.Basic.RecoverAsync(requeue=True))
    r.call(1, spec.Basic.Get(queue=q, no_ack=False), 'basic.get-ok')
    r.send(1, spec.Basic.RecoverAsync(requeue=False))
    r.read(timeout=2.0, until={'connection.close'})


def scenario_ack_errors(t):
    """Unknown, double and zero delivery tags: 406 'unknown delivery
    tag'."""
    c, ch = conn_ch(t, confirm=True)
    q = _queue(t, ch)
    ch.ack(5)
    ch2 = c.channel()
    ch2.confirm_select()
    ch2.publish('', q, 'm1')
    tag = ch2.get(q)
    ch2.ack(tag)
    ch2.ack(tag)
    ch3 = c.channel()
    ch3.ack(0)
    ch4 = c.channel()
    ch4.ack(0, multiple=True)
    ch4.nack(0, multiple=True)
    ch4.nack(3)
    ch5 = c.channel()
    ch5.reject(9)


def scenario_ack_auto_acked_tag(t):
    """Acking an auto-acked delivery is a 406 unknown delivery tag."""
    c, ch = conn_ch(t, confirm=True)
    q = _queue(t, ch)
    ch.publish('', q, 'm1')
    tag = ch.get(q, auto_ack=True)
    ch.ack(tag)


def scenario_ack_multiple(t):
    """ack multiple, nack of one tag, then acks of already settled tags."""
    c, ch = conn_ch(t, confirm=True)
    q = _queue(t, ch)
    for i in range(1, 5):
        ch.publish('', q, 'm%d' % i)
    for _ in range(4):
        ch.get(q)
    ch.ack(2, multiple=True)
    ch.nack(4, requeue=True)
    ch.queue_declare(q, passive=True)
    ch.ack(3)
    ch.ack(3, multiple=True)


def scenario_requeue_on_close_redelivered(t):
    """Unacked messages of a closed channel are requeued in their original
    position and redelivered to another consumer."""
    c, ch = conn_ch(t, confirm=True)
    q = _queue(t, ch)
    for i in range(1, 4):
        ch.publish('', q, 'm%d' % i)
    first = c.channel()
    first.get(q)
    first.get(q)
    first.close()
    cons = c.channel()
    cons.consume(q, 'c2', auto_ack=True)
    t.wait_until(lambda: len(cons.deliveries) >= 3, settle=0.1)


def scenario_consume_missing_and_exclusive(t):
    """Consuming a missing queue is 404, another connection's exclusive queue
    405."""
    c, ch = conn_ch(t)
    attempt(t, c, 'consume', t.name('nope'), 'c1')
    owner = t.connect()
    och = owner.channel()
    q = t.name('excl')
    och.queue_declare(q, exclusive=True)
    attempt(t, c, 'consume', q, 'c2')


def scenario_get_with_busy_consumer(t):
    """basic.get takes messages a blocked consumer cannot."""
    c, ch = conn_ch(t)
    q = _queue(t, ch)
    ch.qos(prefetch_count=1)
    ch.consume(q, 'c1')
    pub = c.channel()
    pub.confirm_select()
    pub.publish('', q, 'm1')
    t.wait_until(lambda: len(ch.deliveries) >= 1)
    pub.publish('', q, 'm2')
    pub.get(q, auto_ack=True)
    pub.get(q, auto_ack=True)
    pub.queue_declare(q, passive=True)
