// CommandAssembler: frames to commands, zero-copy when a body fits in one frame.
#include "client/amqp/command_assembler.h"

#include <algorithm>

#include "base/status_macros.h"

namespace burrow::client::amqp {

namespace {

// Bodies are reserved up front only up to this size, so a hostile header cannot make us
// allocate gigabytes before any body byte arrives.
constexpr uint64_t kMaxReserve = 1 << 20;

}  // namespace

Status CommandAssembler::unexpected(std::string text) {
  state_ = State::kMethod;
  return Status(StatusCode::kUnexpectedFrame, std::move(text));
}

Result<bool> CommandAssembler::feed(const protocol::Frame& frame) {
  switch (state_) {
    case State::kMethod: {
      if (frame.type != protocol::FrameType::kMethod) {
        return unexpected("expected a method frame on channel " + std::to_string(frame.channel) +
                          ", got a frame of type " + std::to_string(static_cast<int>(frame.type)));
      }
      RETURN_IF_ERROR(protocol::decode_method(frame.payload, command_.method));
      const uint16_t class_id = protocol::method_class_id(command_.method);
      if (!protocol::method_has_content(class_id, protocol::method_method_id(command_.method))) {
        command_.has_content = false;
        command_.body = {};
        return true;
      }
      class_id_ = class_id;
      state_ = State::kHeader;
      return false;
    }
    case State::kHeader: {
      if (frame.type != protocol::FrameType::kHeader) {
        return unexpected("expected content header for class " + std::to_string(class_id_) +
                          ", got a frame of type " + std::to_string(static_cast<int>(frame.type)) +
                          " instead");
      }
      RETURN_IF_ERROR(protocol::decode_content_header(frame.payload, command_.header));
      if (command_.header.class_id != class_id_) {
        return unexpected("expected content header for class " + std::to_string(class_id_) +
                          ", got one for class " + std::to_string(command_.header.class_id));
      }
      command_.has_content = true;
      command_.body = {};
      remaining_ = command_.header.body_size;
      if (remaining_ == 0) {
        state_ = State::kMethod;
        return true;
      }
      body_.clear();
      state_ = State::kBody;
      return false;
    }
    case State::kBody: {
      if (frame.type != protocol::FrameType::kBody) {
        return unexpected("expected content body, got a frame of type " +
                          std::to_string(static_cast<int>(frame.type)) + " instead");
      }
      if (frame.payload.size() > remaining_) {
        return unexpected("content body of " + std::to_string(command_.header.body_size) +
                          " bytes got " + std::to_string(frame.payload.size() - remaining_) +
                          " bytes too many");
      }
      remaining_ -= frame.payload.size();
      if (remaining_ == 0 && body_.empty()) {
        command_.body = frame.payload;  // the whole body in one frame: no copy
        state_ = State::kMethod;
        return true;
      }
      if (body_.empty()) body_.reserve(std::min(command_.header.body_size, kMaxReserve));
      body_.append(frame.payload);
      if (remaining_ != 0) return false;
      command_.body = body_;
      state_ = State::kMethod;
      return true;
    }
  }
  return false;
}

}  // namespace burrow::client::amqp
