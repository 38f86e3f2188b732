// tx.* methods: select, commit, rollback.
#include "base/status_macros.h"
#include "server/amqp_channel.h"
#include "server/handlers/handlers.h"

namespace burrow::server::handlers {

Status handle(AmqpChannel& ch, const protocol::TxSelect&) {
  RETURN_IF_ERROR(ch.core()->tx_select());
  ch.send(protocol::TxSelectOk{});
  return Status();
}

Status handle(AmqpChannel& ch, const protocol::TxCommit&) {
  RETURN_IF_ERROR(ch.core()->tx_commit());
  ch.send(protocol::TxCommitOk{});
  return Status();
}

Status handle(AmqpChannel& ch, const protocol::TxRollback&) {
  RETURN_IF_ERROR(ch.core()->tx_rollback());
  ch.send(protocol::TxRollbackOk{});
  return Status();
}

}  // namespace burrow::server::handlers
