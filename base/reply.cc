// Status -> AMQP reply mapping.
#include "base/reply.h"

namespace burrow {

ReplyScope reply_scope(uint16_t code) {
  switch (code) {
    case 311:
    case 312:
    case 313:
    case 403:
    case 404:
    case 405:
    case 406:
      return ReplyScope::kChannel;
    default:
      return ReplyScope::kConnection;
  }
}

Reply reply_for(const Status& status) {
  auto code = static_cast<uint16_t>(status.code());
  std::string_view name = status_code_name(status.code());
  if (code >= 1000 || status.ok()) {
    code = static_cast<uint16_t>(StatusCode::kInternalError);
    name = status_code_name(StatusCode::kInternalError);
  }
  std::string text(name);
  if (!status.message().empty()) {
    text += " - ";
    text += status.message();
  }
  // AMQP short strings hold at most 255 bytes; RabbitMQ cuts longer texts to 252 bytes and
  // "..." (rabbit_binary_generator:map_exception/3).
  if (text.size() > 255) {
    text.resize(252);
    text += "...";
  }
  return Reply{code, reply_scope(code), std::move(text)};
}

}  // namespace burrow
