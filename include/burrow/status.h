// Status and Result<T>: how every Burrow API reports failure. No exceptions cross a module
// boundary; an error carries a code from one vocabulary that mirrors AMQP 0-9-1 reply codes.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace burrow {

// The error vocabulary. AMQP codes keep their numeric reply-code values so a status maps onto
// the wire without a lookup; the codes from 1000 up are storage and API errors that have no
// AMQP equivalent (they reach an AMQP client as 541 INTERNAL_ERROR).
enum class StatusCode : uint16_t {
  kOk = 0,
  kContentTooLarge = 311,
  kNoRoute = 312,
  kNoConsumers = 313,
  kConnectionForced = 320,
  kInvalidPath = 402,
  kAccessRefused = 403,
  kNotFound = 404,
  kResourceLocked = 405,
  kPreconditionFailed = 406,
  kFrameError = 501,
  kSyntaxError = 502,
  kCommandInvalid = 503,
  kChannelError = 504,
  kUnexpectedFrame = 505,
  kResourceError = 506,
  kNotAllowed = 530,
  kNotImplemented = 540,
  kInternalError = 541,
  // Not AMQP codes.
  kInvalidArgument = 1000,  // an API precondition was violated by the caller
  kIoError = 1001,          // the store could not read or write
  kCorruption = 1002,       // stored data failed a check
  kBusy = 1003,             // a transaction conflicted; retry it
  kClosed = 1004,           // the broker, channel or connection is closed
  kTimedOut = 1005,
};

// The outcome of an operation: OK, or a code and a message meant for humans (for AMQP codes the
// message is RabbitMQ's reply text without the "NAME - " prefix, e.g. "no queue 'q' in vhost
// '/'"). An OK status is one null pointer, so returning it costs nothing on hot paths.
// Thread-compatible: const methods may be called concurrently.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message);
  Status(const Status& other);
  Status& operator=(const Status& other);
  Status(Status&&) noexcept = default;
  Status& operator=(Status&&) noexcept = default;
  ~Status() = default;

  static Status ok_status() { return Status(); }

  bool ok() const { return state_ == nullptr; }
  StatusCode code() const { return state_ ? state_->code : StatusCode::kOk; }
  // Empty for OK.
  const std::string& message() const;
  // "NOT_FOUND: no queue 'q' in vhost '/'" - for logs and test failure messages.
  std::string to_string() const;
  // Marks a status as deliberately ignored.
  void ignore_error() const {}

  friend bool operator==(const Status& a, const Status& b) {
    return a.code() == b.code() && a.message() == b.message();
  }

 private:
  struct State {
    StatusCode code;
    std::string message;
  };
  std::unique_ptr<State> state_;
};

// The symbolic name of a code, as RabbitMQ spells it in reply texts ("NOT_FOUND").
std::string_view status_code_name(StatusCode code);

// Shorthands that read like the reply they produce: not_found("no queue 'q' in vhost '/'").
Status not_found(std::string message);
Status access_refused(std::string message);
Status resource_locked(std::string message);
Status precondition_failed(std::string message);
Status command_invalid(std::string message);
Status channel_error(std::string message);
Status not_allowed(std::string message);
Status not_implemented(std::string message);
Status internal_error(std::string message);
Status invalid_argument(std::string message);

// A value of type T or an error Status. Accessing the value of an error result is a bug
// (asserted). Thread-compatible.
template <typename T>
class [[nodiscard]] Result {
 public:
  static_assert(!std::is_same_v<std::decay_t<T>, Status>, "Result<Status> is meaningless");

  // Implicit from a value or from an error status, so functions can `return value;` or
  // `return not_found(...)`.
  Result(T value) : v_(std::move(value)) {}        // NOLINT(google-explicit-constructor)
  Result(Status status) : v_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    if (std::get<Status>(v_).ok()) v_ = Status(StatusCode::kInternalError, "OK status in Result");
  }
  template <typename U, typename = std::enable_if_t<std::is_convertible_v<U&&, T> &&
                                                    !std::is_same_v<std::decay_t<U>, Status> &&
                                                    !std::is_same_v<std::decay_t<U>, T>>>
  Result(U&& value) : v_(T(std::forward<U>(value))) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 1; }
  Status status() const { return ok() ? Status() : std::get<Status>(v_); }

  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<Status, T> v_;
};

}  // namespace burrow
