"""The manual clock: a 60 s TTL dead-letters when the test advances the broker's clock, in a
fraction of a second of real time."""

import datetime
import time

import pytest


def test_a_60_s_ttl_dead_letters_when_the_clock_advances_61_s(burrow, connect):
    started = time.monotonic()
    ch = connect().channel()
    ch.exchange_declare("dlx", "fanout")
    ch.queue_declare("dlq")
    ch.queue_bind("dlq", "dlx")
    ch.queue_declare("work", arguments={"x-message-ttl": 60000, "x-dead-letter-exchange": "dlx"})
    # With confirms the message is in its queue, its 60 s running, before the clock moves.
    ch.confirm_delivery()
    published_at = burrow.now()
    ch.basic_publish("", "work", b"order-1")

    burrow.advance(datetime.timedelta(seconds=59))
    assert ch.queue_declare("work", passive=True).method.message_count == 1
    burrow.advance(2000)
    method, props, body = ch.basic_get("dlq", auto_ack=True)
    real = time.monotonic() - started
    print("61 s of broker time took %.3f s of real time" % real)

    assert body == b"order-1"
    assert ch.queue_declare("work", passive=True).method.message_count == 0
    # x-death's time is when the TTL fell due (the advance steps through due times in
    # order), 60 s after the publish; pika decodes AMQP timestamps as naive UTC datetimes.
    assert props.headers == {
        "x-death": [{
            "count": 1,
            "reason": "expired",
            "queue": "work",
            "exchange": "",
            "routing-keys": ["work"],
            "time": datetime.datetime.utcfromtimestamp((published_at + 60000) // 1000),
        }],
        "x-first-death-exchange": "",
        "x-first-death-queue": "work",
        "x-first-death-reason": "expired",
    }


def test_advance_takes_ms_or_a_timedelta_and_only_moves_forward(burrow):
    start = burrow.now()
    assert burrow.advance(1500) == start + 1500
    assert burrow.advance(datetime.timedelta(minutes=1)) == start + 61500
    assert burrow.now() == start + 61500
    with pytest.raises(ValueError):
        burrow.advance(-1)
    with pytest.raises(TypeError):
        burrow.advance("10s")
