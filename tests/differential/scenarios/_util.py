"""Helpers shared by the scenario modules."""

from burrow_diff.wire import (Typed, long_, signed_int, short_, byte_,
                              double_, float_, bytes_, void, decimal_)

__all__ = ['Typed', 'long_', 'signed_int', 'short_', 'byte_', 'double_',
           'float_', 'bytes_', 'void', 'decimal_', 'conn_ch', 'attempt',
           'declare_attempts', 'publish_confirmed', 'drain_queues', 'probe',
           'bind_queues']


def conn_ch(t, confirm=False):
    """A fresh connection and a channel on it."""
    c = t.connect()
    ch = c.channel()
    if confirm:
        ch.confirm_select()
    return c, ch


def attempt(t, conn, fn_name, *args, **kwargs):
    """Run one channel operation on a new channel of ``conn`` (errors close
    the channel, so each attempt gets its own)."""
    ch = conn.channel()
    if ch is None:
        return None
    return getattr(ch, fn_name)(*args, **kwargs)


def declare_attempts(t, cases, conn=None, **common):
    """queue.declare each (local_name, arguments) case on its own channel."""
    conn = conn or t.connect()
    for local, args in cases:
        attempt(t, conn, 'queue_declare', t.name(local), arguments=args,
                **common)
    return conn


def publish_confirmed(ch, exchange, routing_key, bodies, **props):
    """Publish several bodies; ch must be in confirm mode."""
    for body in bodies:
        ch.publish(exchange, routing_key, body, **props)


def drain_queues(ch, queues, auto_ack=True):
    """basic.get every message of every queue, in the given order."""
    for q in queues:
        ch.get_all(q, auto_ack=auto_ack)


def probe(t, ch, exchange, routing_key, queues, body='m', **props):
    """Publish one mandatory message (ch in confirm mode) and show which of
    ``queues`` got it (each is drained with basic.get)."""
    ch.publish(exchange, routing_key, body, mandatory=True, **props)
    drain_queues(ch, queues)


def bind_queues(ch, exchange, specs):
    """specs: list of (queue, routing_key, arguments); declares the queues."""
    for q, rk, args in specs:
        ch.queue_declare(q)
        ch.queue_bind(q, exchange, rk, arguments=args)
