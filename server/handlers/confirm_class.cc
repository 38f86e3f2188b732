// confirm.select.
#include "base/status_macros.h"
#include "server/amqp_channel.h"
#include "server/handlers/handlers.h"

namespace burrow::server::handlers {

Status handle(AmqpChannel& ch, const protocol::ConfirmSelect& m) {
  RETURN_IF_ERROR(ch.core()->confirm_select());
  if (!m.nowait) ch.send(protocol::ConfirmSelectOk{});
  return Status();
}

}  // namespace burrow::server::handlers
