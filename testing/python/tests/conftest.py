"""The plugin's own tests: pytest_burrow loaded as a project would (pytest_plugins), pytester
for the tests that run a pytest session inside a test, and a pika connection factory."""

import pika
import pytest

pytest_plugins = ["pytester", "pytest_burrow"]


@pytest.fixture
def connect(burrow_broker):
    """connect(name=None) -> a pika BlockingConnection to the session's broker, closed after
    the test. `name` is sent as the connection_name client property."""
    opened = []

    def open_connection(name=None):
        params = pika.URLParameters(burrow_broker.url)
        params.socket_timeout = 5
        if name is not None:
            params.client_properties = {"connection_name": name}
        conn = pika.BlockingConnection(params)
        opened.append(conn)
        return conn

    yield open_connection
    for conn in opened:
        try:
            if conn.is_open:
                conn.close()
        except pika.exceptions.AMQPError:
            pass
