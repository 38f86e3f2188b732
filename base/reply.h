// The one table that maps a Status onto an AMQP reply: code, RabbitMQ's reply text, and
// whether it closes the channel (soft error) or the whole connection (hard error).
#pragma once

#include <cstdint>
#include <string>

#include <burrow/status.h>

namespace burrow {

enum class ReplyScope : uint8_t {
  kChannel,     // soft error: channel.close, the connection carries on
  kConnection,  // hard error: connection.close
};

struct Reply {
  uint16_t code;     // AMQP reply code (e.g. 404)
  ReplyScope scope;  // what the error closes
  std::string text;  // "NOT_FOUND - no queue 'q' in vhost '/'", as RabbitMQ writes it
};

// The reply for a failed status. Codes without an AMQP equivalent (storage, API) become
// 541 INTERNAL_ERROR, which closes the connection, as an internal failure does in RabbitMQ.
Reply reply_for(const Status& status);

// The scope AMQP 0-9-1 assigns to a reply code (soft: 311-313, 403-406; hard: the rest).
ReplyScope reply_scope(uint16_t code);

}  // namespace burrow
