"""Reset between tests: what one test declares is gone in the next, and a test can reset the
broker itself. The first two tests run in file order (pytest's default)."""

import pika
import pytest


def test_a_queue_declared_here(burrow, connect):
    ch = connect().channel()
    ch.queue_declare("isolation-probe")
    ch.confirm_delivery()
    ch.basic_publish("", "isolation-probe", b"left behind")
    assert ch.queue_declare("isolation-probe", passive=True).method.message_count == 1


def test_is_gone_in_the_next_test(amqp_url):
    conn = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        with pytest.raises(pika.exceptions.ChannelClosedByBroker) as e:
            conn.channel().queue_declare("isolation-probe", passive=True)
        assert (e.value.reply_code, e.value.reply_text) == (
            404, "NOT_FOUND - no queue 'isolation-probe' in vhost '/'")
    finally:
        conn.close()


def test_reset_closes_connections_and_deletes_queues(burrow, connect):
    conn = connect()
    conn.channel().queue_declare("doomed")
    burrow.reset()
    with pytest.raises(pika.exceptions.ConnectionClosedByBroker) as e:
        conn.process_data_events(time_limit=5)
    assert (e.value.reply_code, e.value.reply_text) == (320, "CONNECTION_FORCED - broker reset")
    with pytest.raises(pika.exceptions.ChannelClosedByBroker) as e:
        connect().channel().queue_declare("doomed", passive=True)
    assert e.value.reply_code == 404
