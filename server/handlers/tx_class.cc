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
  ASSIGN_OR_RETURN(const bool reached_queues, ch.core()->tx_commit());
  if (reached_queues) {
    ch.begin_commit();  // commit-ok after the input being handled (504 for what it holds)
  } else {
    ch.send(protocol::TxCommitOk{});
  }
  return Status();
}

Status handle(AmqpChannel& ch, const protocol::TxRollback&) {
  RETURN_IF_ERROR(ch.core()->tx_rollback());
  ch.send(protocol::TxRollbackOk{});
  return Status();
}

}  // namespace burrow::server::handlers
