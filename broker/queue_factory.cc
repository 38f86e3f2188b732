// make_queue: picks the queue type named by x-queue-type.
#include "broker/classic_queue.h"
#include "broker/queue.h"

namespace burrow::broker {

Result<QueuePtr> make_queue(QueueSettings settings, Executor& executor, AutoDeleteHook on_unused) {
  if (const FieldValue* type = settings.arguments.find("x-queue-type")) {
    const std::string* name = type->get_if<std::string>();
    if (name == nullptr || *name != "classic") {
      // Quorum queues and streams come with their own issue; refuse rather than pretend.
      return precondition_failed("invalid arg 'x-queue-type' for queue '" + settings.name +
                                 "' in vhost '" + settings.vhost + "': queue type " +
                                 (name ? "'" + *name + "'" : to_string(*type)) +
                                 " is not supported yet");
    }
  }
  return QueuePtr(
      std::make_shared<ClassicQueue>(std::move(settings), executor, std::move(on_unused)));
}

}  // namespace burrow::broker
