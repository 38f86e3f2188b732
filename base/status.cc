// Status construction, names and shorthands.
#include <burrow/status.h>

namespace burrow {

Status::Status(StatusCode code, std::string message) {
  if (code != StatusCode::kOk) state_ = std::make_unique<State>(State{code, std::move(message)});
}

Status::Status(const Status& other)
    : state_(other.state_ ? std::make_unique<State>(*other.state_) : nullptr) {}

Status& Status::operator=(const Status& other) {
  if (this != &other) state_ = other.state_ ? std::make_unique<State>(*other.state_) : nullptr;
  return *this;
}

const std::string& Status::message() const {
  static const std::string kEmpty;
  return state_ ? state_->message : kEmpty;
}

std::string Status::to_string() const {
  if (ok()) return "OK";
  std::string out(status_code_name(code()));
  out += ": ";
  out += state_->message;
  return out;
}

std::string_view status_code_name(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return "OK";
    case StatusCode::kContentTooLarge:
      return "CONTENT_TOO_LARGE";
    case StatusCode::kNoRoute:
      return "NO_ROUTE";
    case StatusCode::kNoConsumers:
      return "NO_CONSUMERS";
    case StatusCode::kConnectionForced:
      return "CONNECTION_FORCED";
    case StatusCode::kInvalidPath:
      return "INVALID_PATH";
    case StatusCode::kAccessRefused:
      return "ACCESS_REFUSED";
    case StatusCode::kNotFound:
      return "NOT_FOUND";
    case StatusCode::kResourceLocked:
      return "RESOURCE_LOCKED";
    case StatusCode::kPreconditionFailed:
      return "PRECONDITION_FAILED";
    case StatusCode::kFrameError:
      return "FRAME_ERROR";
    case StatusCode::kSyntaxError:
      return "SYNTAX_ERROR";
    case StatusCode::kCommandInvalid:
      return "COMMAND_INVALID";
    case StatusCode::kChannelError:
      return "CHANNEL_ERROR";
    case StatusCode::kUnexpectedFrame:
      return "UNEXPECTED_FRAME";
    case StatusCode::kResourceError:
      return "RESOURCE_ERROR";
    case StatusCode::kNotAllowed:
      return "NOT_ALLOWED";
    case StatusCode::kNotImplemented:
      return "NOT_IMPLEMENTED";
    case StatusCode::kInternalError:
      return "INTERNAL_ERROR";
    case StatusCode::kInvalidArgument:
      return "INVALID_ARGUMENT";
    case StatusCode::kIoError:
      return "IO_ERROR";
    case StatusCode::kCorruption:
      return "CORRUPTION";
    case StatusCode::kBusy:
      return "BUSY";
    case StatusCode::kClosed:
      return "CLOSED";
    case StatusCode::kTimedOut:
      return "TIMED_OUT";
  }
  return "UNKNOWN";
}

Status not_found(std::string m) { return Status(StatusCode::kNotFound, std::move(m)); }
Status access_refused(std::string m) { return Status(StatusCode::kAccessRefused, std::move(m)); }
Status resource_locked(std::string m) { return Status(StatusCode::kResourceLocked, std::move(m)); }
Status precondition_failed(std::string m) {
  return Status(StatusCode::kPreconditionFailed, std::move(m));
}
Status command_invalid(std::string m) { return Status(StatusCode::kCommandInvalid, std::move(m)); }
Status channel_error(std::string m) { return Status(StatusCode::kChannelError, std::move(m)); }
Status not_allowed(std::string m) { return Status(StatusCode::kNotAllowed, std::move(m)); }
Status not_implemented(std::string m) { return Status(StatusCode::kNotImplemented, std::move(m)); }
Status internal_error(std::string m) { return Status(StatusCode::kInternalError, std::move(m)); }
Status invalid_argument(std::string m) {
  return Status(StatusCode::kInvalidArgument, std::move(m));
}

}  // namespace burrow
