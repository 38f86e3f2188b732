// The in-process adapter: burrow::Channel's implementation over broker::Channel.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include <burrow/channel.h>

#include "base/thread_annotations.h"
#include "broker/channel.h"
#include "client/dispatcher.h"

namespace burrow::client {

// Not thread-safe for concurrent API calls (as burrow::Channel); the sink side is called by
// broker threads and hands everything to the dispatcher.
class ChannelImpl final : public broker::ChannelSink {
 public:
  ChannelImpl(broker::ConnectionPtr connection, uint16_t number, broker::Executor& executor);
  ~ChannelImpl() override;

  broker::Channel& core() { return *channel_; }

  Status publish(std::string_view exchange, std::string_view routing_key, std::string body,
                 BasicProperties properties, const PublishOptions& options);
  Status publish_batch(std::string_view exchange, std::string_view routing_key,
                       std::vector<std::string> bodies, const BasicProperties& properties,
                       const PublishOptions& options);
  Status confirm_select();
  Status wait_for_confirms(std::chrono::milliseconds timeout);
  Result<std::string> consume(std::string_view queue, ConsumerCallback callback,
                              const ConsumeOptions& options);
  Status cancel(const std::string& tag);
  Result<std::optional<Delivery>> get(std::string_view queue, bool no_ack);
  void set_return_callback(ReturnCallback callback);
  void close();

  // broker::ChannelSink
  void on_deliver(const std::string& consumer_tag, uint64_t delivery_tag,
                  const broker::QueueEntry& entry) override;
  void on_return(uint16_t reply_code, std::string_view reply_text,
                 const broker::StoredMessage& message) override;
  void on_confirm(uint64_t seq, bool multiple, bool ack) override;
  void on_cancel(const std::string& consumer_tag) override;
  void on_error(const Status& error) override;

 private:
  std::shared_ptr<broker::Channel> channel_;
  std::shared_ptr<Dispatcher> dispatcher_;
  broker::Executor& executor_;

  // A consumer's callback and whether it may still run: cancel() clears `active`, and queued
  // deliveries check it when they run, so none runs after cancel() returns.
  struct ConsumerState final : DeliveryHandler {
    void on_delivery(const Delivery& delivery) override {
      if (active.load(std::memory_order_acquire)) callback(delivery);
    }
    ConsumerCallback callback;
    std::atomic<bool> active{true};
  };
  // Deactivates and removes a consumer's callback (cancel, or cancelled by the broker).
  void forget_consumer(const std::string& tag);
  std::mutex callbacks_mu_;
  std::unordered_map<std::string, std::shared_ptr<ConsumerState>> callbacks_
      GUARDED_BY(callbacks_mu_);
  // Bumped on every change of callbacks_, so on_deliver can keep the last consumer it looked
  // up (deliveries come in runs for one consumer) without taking callbacks_mu_ each time.
  std::atomic<uint64_t> callbacks_version_{0};
  // The cache: touched only by on_deliver, which the broker calls under the channel's
  // delivery lock (one at a time).
  std::string cached_tag_;
  std::shared_ptr<ConsumerState> cached_state_;
  uint64_t cached_version_ = UINT64_MAX;
  std::shared_ptr<ReturnCallback> return_callback_ GUARDED_BY(callbacks_mu_);

  std::mutex confirm_mu_;
  std::condition_variable confirm_cv_;
  uint64_t published_ = 0;                          // only the API caller's thread touches it
  uint64_t confirmed_ GUARDED_BY(confirm_mu_) = 0;  // every seq <= this is resolved
  uint64_t awaited_ GUARDED_BY(confirm_mu_) = 0;    // what wait_for_confirms() waits for
  bool nacked_ GUARDED_BY(confirm_mu_) = false;
  bool closed_ = false;
};

}  // namespace burrow::client
