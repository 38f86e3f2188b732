// status_from_reply: AMQP reply code and text to Status.
#include "client/amqp/reply_status.h"

#include <string>

namespace burrow::client::amqp {

namespace {

bool is_known_reply_code(uint16_t code) {
  switch (static_cast<StatusCode>(code)) {
    case StatusCode::kContentTooLarge:
    case StatusCode::kNoRoute:
    case StatusCode::kNoConsumers:
    case StatusCode::kConnectionForced:
    case StatusCode::kInvalidPath:
    case StatusCode::kAccessRefused:
    case StatusCode::kNotFound:
    case StatusCode::kResourceLocked:
    case StatusCode::kPreconditionFailed:
    case StatusCode::kFrameError:
    case StatusCode::kSyntaxError:
    case StatusCode::kCommandInvalid:
    case StatusCode::kChannelError:
    case StatusCode::kUnexpectedFrame:
    case StatusCode::kResourceError:
    case StatusCode::kNotAllowed:
    case StatusCode::kNotImplemented:
    case StatusCode::kInternalError:
      return true;
    default:
      return false;
  }
}

}  // namespace

Status status_from_reply(uint16_t reply_code, std::string_view reply_text) {
  if (reply_code == 200) {
    return Status(StatusCode::kClosed, "closed by the broker: " + std::string(reply_text));
  }
  if (!is_known_reply_code(reply_code)) {
    return Status(StatusCode::kInternalError,
                  "reply code " + std::to_string(reply_code) + ": " + std::string(reply_text));
  }
  const auto code = static_cast<StatusCode>(reply_code);
  std::string prefix = std::string(status_code_name(code)) + " - ";
  if (reply_text.substr(0, prefix.size()) == prefix) reply_text.remove_prefix(prefix.size());
  return Status(code, std::string(reply_text));
}

}  // namespace burrow::client::amqp
