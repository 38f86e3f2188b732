"""burrowd --record: what was published, with its properties and the queues it reached. The
burrow_record marker makes the session's burrowd start with --record."""

import pika
import pytest

pytestmark = pytest.mark.burrow_record


def test_records_exchange_routing_key_properties_body_and_queues(burrow, connect):
    ch = connect().channel()
    ch.exchange_declare("orders", "topic")
    for queue in ("billing", "shipping"):
        ch.queue_declare(queue)
        ch.queue_bind(queue, "orders", "order.*")
    ch.confirm_delivery()
    props = pika.BasicProperties(content_type="application/json", delivery_mode=2,
                                 headers={"tenant": "acme"}, message_id="m-1",
                                 correlation_id="c-1")
    ch.basic_publish("orders", "order.created", b'{"id": 1}', props)
    ch.basic_publish("orders", "audit.nobody", b"\xff\x00binary")  # reaches no queue

    [created] = burrow.published(exchange="orders", routing_key="order.created")
    assert (created["vhost"], created["exchange"], created["routing_key"]) == (
        "/", "orders", "order.created")
    assert created["properties"] == {"content_type": "application/json", "delivery_mode": 2,
                                     "headers": {"tenant": "acme"}, "message_id": "m-1",
                                     "correlation_id": "c-1"}
    assert (created["body"], created["payload"], created["payload_encoding"]) == (
        b'{"id": 1}', '{"id": 1}', "string")
    assert sorted(created["queues"]) == ["billing", "shipping"]
    assert created["published_at"] == burrow.now()

    everything = burrow.published()
    assert [r["routing_key"] for r in everything] == ["order.created", "audit.nobody"]
    assert (everything[1]["body"], everything[1]["payload_encoding"], everything[1]["queues"]) == (
        b"\xff\x00binary", "base64", [])

    burrow.clear_published()
    assert burrow.published() == []


def test_the_default_exchange_is_filtered_by_an_empty_name(burrow, connect):
    ch = connect().channel()
    ch.queue_declare("inbox")
    ch.exchange_declare("events", "fanout")
    ch.confirm_delivery()
    ch.basic_publish("", "inbox", b"direct to the queue")
    ch.basic_publish("events", "", b"to the fanout")
    assert [r["body"] for r in burrow.published(exchange="")] == [b"direct to the queue"]
    assert [r["queues"] for r in burrow.published(exchange="")] == [["inbox"]]


def test_the_record_starts_empty_after_reset(burrow):
    assert burrow.published() == []
