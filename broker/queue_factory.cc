// make_queue: picks the queue type named by x-queue-type and validates the arguments.
#include <fmt/format.h>

#include "base/status_macros.h"
#include "broker/classic_queue.h"
#include "broker/queue.h"

namespace burrow::broker {

Result<QueuePtr> make_queue(QueueSettings settings, QueueContext context) {
  const std::string resource =
      fmt::format("queue '{}' in vhost '{}'", settings.name, settings.vhost);
  ASSIGN_OR_RETURN(QueueArguments arguments, parse_queue_arguments(settings.arguments, resource));
  if (const FieldValue* type = settings.arguments.find("x-queue-type")) {
    const std::string& name = *type->get_if<std::string>();  // validated above
    if (name != "classic") {
      // Quorum queues and streams come with their own issue; refuse rather than pretend.
      return precondition_failed(
          fmt::format("invalid arg 'x-queue-type' for {}: queue type '{}' is not supported yet",
                      resource, name));
    }
  }
  return QueuePtr(std::make_shared<ClassicQueue>(std::move(settings), std::move(arguments),
                                                 std::move(context)));
}

}  // namespace burrow::broker
