// ClientChannel: one AMQP channel of a ClientConnection: topology, publishing (pipelined, with
// publisher confirms and mandatory returns), consuming with a callback, acks, basic.get.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <burrow/field_table.h>
#include <burrow/properties.h>
#include <burrow/status.h>

#include "client/amqp/confirm_tracker.h"
#include "client/amqp/types.h"
#include "protocol/methods.h"

namespace burrow::client::amqp {

class ChannelState;
class ConnectionCore;

// Not thread-safe: one thread at a time uses a channel (as in every AMQP client), except for
// ack, nack, reject, flush, is_open, status and confirm_counts, which any thread may call -
// typically a consumer callback acking its delivery.
//
// Callbacks (deliveries, returns, confirms, cancels) run on the connection's reader thread,
// one at a time, in the order the broker sent them. They may publish and ack, on any channel;
// they must not call synchronous methods (those return kInvalidArgument: they would wait for
// the thread running the callback), set callbacks, or destroy a channel or the connection.
//
// Errors: when the broker closes the channel (a soft error such as 404 NOT_FOUND or 406
// PRECONDITION_FAILED), the failing call and every later one return that status: the reply
// code as StatusCode and RabbitMQ's reply text, without its "NOT_FOUND - " prefix, as message.
// A closed channel stays closed: open a new one. When the connection closes, calls return the
// connection's status.
class ClientChannel {
 public:
  ClientChannel(std::shared_ptr<ConnectionCore> conn, std::shared_ptr<ChannelState> state);
  // Closes the channel if it is open (channel.close handshake) and waits for a callback in
  // progress to return; no callback runs afterwards.
  ~ClientChannel();
  ClientChannel(const ClientChannel&) = delete;
  ClientChannel& operator=(const ClientChannel&) = delete;

  uint16_t number() const { return number_; }
  bool is_open() const;
  // OK while open, else why it closed.
  Status status() const;

  // ---- topology (synchronous: each waits for the broker's reply) -------------------------
  // queue.declare; name "" asks the broker for a name (QueueInfo::name).
  Result<QueueInfo> queue_declare(std::string_view name, const QueueOptions& options = {});
  Status queue_bind(std::string_view queue, std::string_view exchange, std::string_view routing_key,
                    const FieldTable& arguments = {});
  Status queue_unbind(std::string_view queue, std::string_view exchange,
                      std::string_view routing_key, const FieldTable& arguments = {});
  // Returns the number of messages purged / deleted with the queue.
  Result<uint32_t> queue_purge(std::string_view queue);
  Result<uint32_t> queue_delete(std::string_view queue, bool if_unused = false,
                                bool if_empty = false);
  Status exchange_declare(std::string_view name, std::string_view type,
                          const ExchangeOptions& options = {});
  Status exchange_delete(std::string_view name, bool if_unused = false);
  Status exchange_bind(std::string_view destination, std::string_view source,
                       std::string_view routing_key, const FieldTable& arguments = {});

  // basic.qos: at most prefetch_count unacked deliveries per consumer on this channel (per
  // channel with global, RabbitMQ's reading). 0 = unlimited.
  Status qos(uint16_t prefetch_count, bool global = false);

  // ---- publishing ------------------------------------------------------------------------
  // confirm.select: from now on every publish gets a sequence number (1, 2, ...) that the
  // broker acks (or nacks) once it took responsibility for the message.
  Status confirm_select();
  // Appends basic.publish + content frames to the connection's output buffer and returns
  // without waiting: the writer sends them in batches (ConnectionOptions::flush_bytes,
  // flush_linger). Blocks only when max_buffered_bytes are waiting (back-pressure). Returns
  // the publish's sequence number in confirm mode, 0 otherwise. A mandatory message no queue
  // takes comes back to the return callback (before its confirm). Errors: the channel's or
  // connection's status when closed; nothing is published then.
  Result<uint64_t> publish(std::string_view exchange, std::string_view routing_key,
                           std::string_view body, const BasicProperties& properties = {},
                           bool mandatory = false);
  // Sends buffered frames now (without waiting for the write).
  void flush();

  // Waits until at most max_unconfirmed publishes await their confirm (0: all confirmed);
  // flushes first. Nacks count as confirmed: see confirm_counts() or the confirm callback.
  // Errors: kTimedOut, the channel's status if it closes, kInvalidArgument without
  // confirm_select() or on the reader thread.
  Status wait_for_confirms(uint64_t max_unconfirmed, std::chrono::milliseconds timeout);
  ConfirmCounts confirm_counts() const;
  // Called for each confirmed publish, in sequence order within one basic.ack/nack.
  void set_confirm_callback(ConfirmCallback callback);
  // Called for each basic.return (mandatory publishes no queue took).
  void set_return_callback(ReturnCallback callback);

  // ---- consuming -------------------------------------------------------------------------
  // basic.consume; deliveries go to `callback` on the reader thread. Returns the consumer tag
  // (the broker's choice when options.consumer_tag is empty).
  Result<std::string> consume(std::string_view queue, DeliveryCallback callback,
                              const ConsumeOptions& options = {});
  // basic.cancel and wait for cancel-ok; deliveries already sent may still arrive before.
  Status cancel(std::string_view consumer_tag);
  // Called when the broker cancels a consumer (its queue was deleted).
  void set_cancel_callback(CancelCallback callback);

  // basic.ack / basic.nack / basic.reject: buffered like publishes (sent within flush_linger,
  // or at the end of the reader's current batch when called from a callback).
  Status ack(uint64_t delivery_tag, bool multiple = false);
  Status nack(uint64_t delivery_tag, bool multiple = false, bool requeue = true);
  Status reject(uint64_t delivery_tag, bool requeue = true);

  // basic.get: one message, or nullopt when the queue is empty.
  Result<std::optional<GetResult>> get(std::string_view queue, bool no_ack = false);

  // channel.close and wait for close-ok. OK once closed (also if it was closed before:
  // status() tells why). kTimedOut if the broker did not answer.
  Status close();

 private:
  template <typename M>
  Status send_async(const M& method);

  std::shared_ptr<ConnectionCore> conn_;
  std::shared_ptr<ChannelState> state_;
  const uint16_t number_;
  bool confirms_ = false;
  // Reused across publishes so a publish allocates nothing once the strings have grown.
  protocol::BasicPublish publish_;
  std::string properties_buf_;
};

}  // namespace burrow::client::amqp
