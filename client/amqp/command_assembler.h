// Reassembles one channel's frames into commands: a method, and for basic.deliver,
// basic.return and basic.get-ok its content header and body. Sans-I/O, as RabbitMQ's
// rabbit_command_assembler.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <burrow/status.h>

#include "protocol/content_header.h"
#include "protocol/frame.h"
#include "protocol/methods.h"

namespace burrow::client::amqp {

// A complete command. Views point into the frames fed or into the assembler's own buffer:
// valid until the next feed().
struct Command {
  protocol::Method method;
  bool has_content = false;
  protocol::ContentHeader header;  // when has_content
  std::string_view body;           // when has_content
};

// Not thread-safe: one per channel, fed by the connection's reader thread.
class CommandAssembler {
 public:
  // Feeds one method, header or body frame of this channel. Returns true when it completed a
  // command (then command() holds it), false when the command needs more frames. A body that
  // arrives in a single frame is not copied. Errors (the connection must close with them):
  // - kUnexpectedFrame when a header or body frame comes out of turn, a method interrupts
  //   content, the header's class differs from the method's, or the body is longer than the
  //   header announced;
  // - the decode errors of decode_method and decode_content_header.
  Result<bool> feed(const protocol::Frame& frame);

  Command& command() { return command_; }

 private:
  enum class State : uint8_t { kMethod, kHeader, kBody };

  Status unexpected(std::string text);

  State state_ = State::kMethod;
  Command command_;
  uint16_t class_id_ = 0;
  uint64_t remaining_ = 0;
  std::string body_;  // when the body spans several frames
};

}  // namespace burrow::client::amqp
