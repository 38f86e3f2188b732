#!/usr/bin/python3
"""Records the AMQP frames pika sends to (and receives from) a real broker, for the byte-exact
tests in pika_capture_test.cc. Not run by the test suite: run it by hand when the captures need
refreshing, and paste the printed hex into the test.

  /usr/bin/python3 tests/protocol/capture_pika.py [BROKER_PORT]   (default 5672)

It listens on an ephemeral loopback port, forwards every byte to the broker on 127.0.0.1 and
logs both directions; pika (Debian's python3-pika 1.2.0) connects through it as guest, declares
an exclusive queue with arguments, publishes one message with all 14 basic properties, fetches
it with basic.get, acks it and closes. Each frame is printed as `direction label hex`.
"""

import datetime
import socket
import struct
import sys
import threading

import pika

BROKER_PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 5672


def pump(src, dst, log):
    while True:
        try:
            data = src.recv(65536)
        except OSError:
            data = b""
        if not data:
            try:
                dst.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            return
        log.append(data)
        dst.sendall(data)


def proxy(listener, logs):
    client, _ = listener.accept()
    broker = socket.create_connection(("127.0.0.1", BROKER_PORT))
    threads = [threading.Thread(target=pump, args=(client, broker, logs["client"])),
               threading.Thread(target=pump, args=(broker, client, logs["server"]))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    client.close()
    broker.close()


def frames(stream):
    """Yields (label, frame bytes); the client's 8-byte protocol header comes first."""
    if stream.startswith(b"AMQP"):
        yield "protocol-header", stream[:8]
        stream = stream[8:]
    names = {(10, 10): "connection.start", (10, 11): "connection.start-ok",
             (10, 30): "connection.tune", (10, 31): "connection.tune-ok",
             (10, 40): "connection.open", (10, 41): "connection.open-ok",
             (10, 50): "connection.close", (10, 51): "connection.close-ok",
             (20, 10): "channel.open", (20, 11): "channel.open-ok",
             (20, 40): "channel.close", (20, 41): "channel.close-ok",
             (50, 10): "queue.declare", (50, 11): "queue.declare-ok",
             (60, 40): "basic.publish", (60, 70): "basic.get", (60, 71): "basic.get-ok",
             (60, 80): "basic.ack"}
    while stream:
        ftype, _channel, size = struct.unpack(">BHI", stream[:7])
        frame, stream = stream[:8 + size], stream[8 + size:]
        if ftype == 1:
            label = names.get(struct.unpack(">HH", frame[7:11]), "method")
        else:
            label = {2: "content-header", 3: "content-body", 8: "heartbeat"}[ftype]
        yield label, frame


def main():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    logs = {"client": [], "server": []}
    t = threading.Thread(target=proxy, args=(listener, logs))
    t.start()

    params = pika.ConnectionParameters(host="127.0.0.1", port=listener.getsockname()[1])
    connection = pika.BlockingConnection(params)
    channel = connection.channel()
    channel.queue_declare(queue="burrow-capture", exclusive=True, arguments={
        "x-message-ttl": 60000, "x-max-length": 10, "x-queue-type": "classic",
        "x-dead-letter-exchange": ""})
    properties = pika.BasicProperties(
        content_type="application/json", content_encoding="utf-8",
        headers={"trace": "abc", "attempt": 3, "nested": {"ok": True}, "tags": ["a", 1]},
        delivery_mode=2, priority=5, correlation_id="corr-1", reply_to="replies",
        expiration="60000", message_id="msg-1",
        timestamp=int(datetime.datetime(2024, 1, 2, 3, 4, 5).timestamp()), type="order.created",
        user_id="guest", app_id="capture", cluster_id="cluster-a")
    channel.basic_publish(exchange="", routing_key="burrow-capture", body=b'{"order": 42}',
                          properties=properties)
    method, _props, _body = channel.basic_get("burrow-capture")
    while method is None:  # the publish may not have been routed yet
        method, _props, _body = channel.basic_get("burrow-capture")
    channel.basic_ack(method.delivery_tag)
    channel.close()
    connection.close()
    t.join()

    for direction in ("client", "server"):
        for label, frame in frames(b"".join(logs[direction])):
            print(direction, label, frame.hex())


if __name__ == "__main__":
    main()
