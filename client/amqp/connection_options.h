// What a ClientConnection needs to reach a broker: address, credentials, vhost and the tuning it
// asks for, and the amqp:// URI form of the same (RabbitMQ's URI spec).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <burrow/status.h>

namespace burrow::client::amqp {

// Plain options; every field has a default. Thread-compatible.
struct ConnectionOptions {
  // Default: "localhost", port 5672 (RabbitMQ's defaults).
  std::string host = "localhost";
  uint16_t port = 5672;
  // Default: guest/guest, which RabbitMQ (and Burrow) accept only from loopback.
  std::string user = "guest";
  std::string password = "guest";
  // Default: "/".
  std::string vhost = "/";
  // Heartbeat interval asked for in tune-ok, in seconds. Negotiated as the Java client does: the
  // smaller of ours and the server's, or the non-zero one when either is 0 (so 0 here accepts
  // the server's 60; both 0 disables heartbeats). A server silent for two intervals is declared
  // dead. Default: 60.
  uint16_t heartbeat_s = 60;
  // Largest frame we accept, negotiated like heartbeat_s (0 = accept the server's). Default:
  // 131072, RabbitMQ's.
  uint32_t frame_max = 131072;
  // Highest channel number, negotiated like heartbeat_s. Default: 0 (the server's, 2047).
  uint16_t channel_max = 0;
  // Shown by the broker's management UI ("connection_name" client property). Default: none.
  std::string connection_name;

  // Bounds the TCP connect plus the whole handshake. Default: 10 s.
  std::chrono::milliseconds connect_timeout{10000};
  // Bounds each synchronous method (declare, bind, qos, consume, close, ...). A timed-out call
  // returns kTimedOut and leaves the channel in an unknown state: close it. Default: 30 s.
  std::chrono::milliseconds rpc_timeout{30000};

  // Publishes and acks are appended to an output buffer; the writer thread sends the buffer
  // in one syscall when it holds this many bytes, at once when a call waits for the broker
  // (any synchronous method, wait_for_confirms, flush()), or after flush_linger. Bigger
  // batches mean fewer syscalls and more latency. Default: 64 KiB.
  size_t flush_bytes = 64 * 1024;
  // A buffered frame waits at most this long for the buffer to fill before the writer sends it
  // anyway (as Nagle's algorithm, without waiting for an ack). So a publish or an ack is never
  // stranded, and at high rates many messages share one write. 0 sends at once. Default: 1 ms.
  std::chrono::microseconds flush_linger{1000};
  // Publishing threads block while this many bytes wait to be written (back-pressure from a
  // slow socket or a broker applying flow control). Callbacks on the reader thread never
  // block. Default: 1 MiB.
  size_t max_buffered_bytes = 1024 * 1024;
};

// Parses amqp://user:pass@host:port/vhost?heartbeat=10&frame_max=131072&channel_max=100&
// connection_timeout=5000 (RabbitMQ's URI spec, percent-decoding each part: "%2F" is the vhost
// "/"). Missing parts keep ConnectionOptions' defaults; an empty vhost ("amqp://host/") means
// "/", as pika reads it. Errors: kInvalidArgument for a malformed URI, kNotImplemented for
// amqps:// (TLS is not supported yet).
Result<ConnectionOptions> parse_amqp_uri(std::string_view uri);

}  // namespace burrow::client::amqp
