"""Fault injection: connections closed or refused, publishes nacked, confirms delayed, acks
lost; each seen through pika as an application would see it."""

import time

import pika
import pytest


def connect_with_retry(connect, name=None, timeout=5.0):
    """The reconnect loop an application would have: returns (connection, failed attempts)."""
    failures = 0
    deadline = time.monotonic() + timeout
    while True:
        try:
            return connect(name), failures
        except pika.exceptions.AMQPConnectionError:
            failures += 1
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def test_closed_connection_reconnects_and_works_again(burrow, connect):
    conn = connect("orders-worker")
    ch = conn.channel()
    ch.queue_declare("orders")
    assert burrow.close_connections() == 1
    with pytest.raises(pika.exceptions.ConnectionClosedByBroker) as e:
        conn.process_data_events(time_limit=5)
    assert (e.value.reply_code, e.value.reply_text) == (
        320, "CONNECTION_FORCED - Closed via fault injection")

    conn, failures = connect_with_retry(connect, "orders-worker")
    assert failures == 0
    ch = conn.channel()
    ch.confirm_delivery()
    ch.basic_publish("", "orders", b"after the reconnect")
    method, _, body = ch.basic_get("orders", auto_ack=True)
    assert body == b"after the reconnect"


def test_close_connections_of_one_client(burrow, connect):
    victim, bystander = connect("victim"), connect("bystander")
    assert burrow.close_connections(client="victim") == 1
    with pytest.raises(pika.exceptions.ConnectionClosedByBroker):
        victim.process_data_events(time_limit=5)
    bystander.channel().queue_declare("still-served")
    assert bystander.is_open


def test_refused_connections_fail_then_succeed(burrow, connect):
    started = time.monotonic()
    burrow.fault("refuse_connections", ms=300)
    conn, failures = connect_with_retry(connect)
    print("%d refused attempts; connected after %.3f s" % (failures, time.monotonic() - started))
    assert failures >= 1
    conn.channel().queue_declare("served-again")


def test_nacked_publish_raises_nack_error(burrow, connect):
    ch = connect().channel()
    ch.queue_declare("payments")
    ch.confirm_delivery()
    burrow.fault("nack_publishes", count=1)
    with pytest.raises(pika.exceptions.NackError):
        ch.basic_publish("", "payments", b"nacked")
    ch.basic_publish("", "payments", b"acked")  # only the next one
    assert ch.queue_declare("payments", passive=True).method.message_count == 1
    assert ch.basic_get("payments", auto_ack=True)[2] == b"acked"


def test_delayed_confirm_arrives_after_the_delay(burrow, connect):
    ch = connect().channel()
    ch.queue_declare("slow")
    ch.confirm_delivery()
    burrow.fault("delay_confirms", ms=300)
    started = time.monotonic()
    ch.basic_publish("", "slow", b"waits for its confirm")
    waited = time.monotonic() - started
    burrow.fault("delay_confirms", ms=0)
    started = time.monotonic()
    ch.basic_publish("", "slow", b"prompt")
    print("delayed confirm after %.3f s, then %.3f s without the fault"
          % (waited, time.monotonic() - started))
    assert waited >= 0.3


def test_dropped_ack_redelivers_the_message(burrow, connect):
    ch = connect().channel()
    ch.queue_declare("jobs")
    ch.confirm_delivery()
    ch.basic_publish("", "jobs", b"job-1")
    burrow.fault("drop_acks", count=1)
    deliveries = ch.consume("jobs", inactivity_timeout=5)
    method, _, body = next(deliveries)
    assert (body, method.redelivered) == (b"job-1", False)
    ch.basic_ack(method.delivery_tag)  # lost: requeued as if the consumer crashed
    method, _, body = next(deliveries)
    assert method is not None, "the message whose ack was dropped never came back"
    assert (body, method.redelivered) == (b"job-1", True)
    ch.basic_ack(method.delivery_tag)  # this one counts
    ch.cancel()
    assert ch.queue_declare("jobs", passive=True).method.message_count == 0


def test_reset_clears_faults(burrow, connect):
    burrow.fault("nack_publishes", count=5)
    burrow.reset()
    ch = connect().channel()
    ch.queue_declare("q")
    ch.confirm_delivery()
    ch.basic_publish("", "q", b"not nacked")
