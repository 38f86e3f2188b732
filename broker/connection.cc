// Connection: exclusive-queue cleanup on close.
#include "broker/connection.h"

#include "broker/channel.h"

namespace burrow::broker {

Connection::~Connection() {
  if (counted_ && !closed_.load()) vhost_->remove_connection();
}

void Connection::close() {
  if (closed_.exchange(true)) return;
  if (counted_) vhost_->remove_connection();
  for (const QueuePtr& q : vhost_->queues_owned_by(id_)) {
    DeletedQueue d = vhost_->delete_queue_object(q);
    // The owner's channels are closed already; consumers from elsewhere cannot exist
    // (exclusive), but notify defensively.
    for (const ConsumerPtr& c : d.consumers) c->channel().consumer_cancelled_by_broker(c);
  }
}

}  // namespace burrow::broker
