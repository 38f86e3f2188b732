"""Transactions: tx.select/commit/rollback rules."""

from ._util import conn_ch


def scenario_commit_publishes(t):
    """Publishes in a transaction are invisible until tx.commit."""
    c, ch = conn_ch(t)
    q = t.name('q')
    ch.queue_declare(q)
    ch.tx_select()
    ch.publish('', q, 'm1')
    ch.publish('', q, 'm2')
    check = c.channel()
    check.queue_declare(q, passive=True)
    ch.tx_commit()
    check.get_all(q)


def scenario_rollback_publishes(t):
    """tx.rollback discards buffered publishes."""
    c, ch = conn_ch(t)
    q = t.name('q')
    ch.queue_declare(q)
    ch.tx_select()
    ch.publish('', q, 'm1')
    ch.tx_rollback()
    ch.tx_commit()
    ch.get(q)


def scenario_acks_in_tx(t):
    """Acks are applied at commit; rollback forgets them (the messages stay
    unacked and are requeued on close)."""
    c, ch = conn_ch(t)
    q = t.name('q')
    ch.queue_declare(q)
    ch.publish('', q, 'm1')
    ch.publish('', q, 'm2')
    ch.tx_select()
    t1 = ch.get(q)
    t2 = ch.get(q)
    ch.ack(t1)
    ch.tx_rollback()
    ch.ack(t2)
    ch.tx_commit()
    ch.close()
    c2, ch2 = conn_ch(t)
    ch2.get_all(q)


def scenario_nack_requeue_in_tx(t):
    """A requeueing nack in a transaction takes effect at commit."""
    c, ch = conn_ch(t)
    q = t.name('q')
    ch.queue_declare(q)
    ch.publish('', q, 'm1')
    ch.tx_select()
    tag = ch.get(q)
    ch.nack(tag, requeue=True)
    other = c.channel()
    other.get(q)
    ch.tx_commit()
    other.get(q, auto_ack=True)


def scenario_commit_without_select_406(t):
    """tx.commit / tx.rollback on a non-transactional channel are 406."""
    c, ch = conn_ch(t)
    ch.tx_commit()
    ch2 = c.channel()
    ch2.tx_rollback()


def scenario_select_twice_ok(t):
    """tx.select twice and empty commits are fine."""
    c, ch = conn_ch(t)
    ch.tx_select()
    ch.tx_select()
    ch.tx_commit()
    ch.tx_commit()


def scenario_tx_confirm_exclusive(t):
    """tx and confirm modes exclude each other (406 both ways)."""
    c, ch = conn_ch(t)
    ch.tx_select()
    ch.confirm_select()
    ch2 = c.channel()
    ch2.confirm_select()
    ch2.tx_select()


def scenario_mandatory_in_tx(t):
    """An unroutable mandatory publish in a transaction is returned (when:
    at publish or at commit)."""
    c, ch = conn_ch(t)
    ch.tx_select()
    ch.publish('amq.direct', t.name('nokey'), 'm', mandatory=True)
    ch.sync()
    ch.tx_commit()
    ch.sync()


def scenario_publish_missing_exchange_in_tx(t):
    """Publishing to a missing exchange in a transaction fails at once (404).
"""
    c, ch = conn_ch(t)
    ch.tx_select()
    ch.publish(t.name('nox'), 'k', 'm')
    ch.sync()


def scenario_reject_dead_letter_in_tx(t):
    """A requeue=false reject inside a transaction dead-letters at
    commit."""
    c, ch = conn_ch(t)
    dlq, q = t.name('dlq'), t.name('q')
    ch.queue_declare(dlq)
    ch.queue_declare(q, arguments={'x-dead-letter-exchange': '',
                                   'x-dead-letter-routing-key': dlq})
    ch.publish('', q, 'm1')
    ch.tx_select()
    tag = ch.get(q)
    ch.reject(tag, requeue=False)
    ch.queue_declare(dlq, passive=True)
    ch.tx_commit()
    t.wait_count(dlq, 1)
    ch.get(dlq, auto_ack=True)
