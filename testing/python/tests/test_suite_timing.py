"""The figure for docs: 100 small tests, each on a freshly reset broker (the amqp_url fixture),
declaring a queue, publishing with confirms and consuming. Timed by running this file alone:
    pytest -p pytest_burrow testing/python/tests/test_suite_timing.py --durations=0
"""

import pika
import pytest


@pytest.mark.parametrize("n", range(100))
def test_declare_publish_consume(amqp_url, n):
    conn = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        ch = conn.channel()
        # The same queue every time, and each test leaves a message in it: only the reset
        # makes it empty again.
        assert ch.queue_declare("tasks").method.message_count == 0
        ch.confirm_delivery()
        ch.basic_publish("", "tasks", b"task %d" % n)
        ch.basic_publish("", "tasks", b"left behind")
        method, _, body = next(ch.consume("tasks", inactivity_timeout=5))
        assert body == b"task %d" % n
        ch.basic_ack(method.delivery_tag)
        ch.cancel()
    finally:
        conn.close()
