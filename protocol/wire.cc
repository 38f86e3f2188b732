// Reader: bounds-checked reads of AMQP primitives. Every length is compared with the bytes left
// before anything is copied, so a hostile length never causes a large allocation.
#include "protocol/wire.h"

namespace burrow::protocol {

bool is_truncated(const Status& status) {
  return status.code() == StatusCode::kSyntaxError && status.message() == kTruncatedText;
}

Status Reader::underflow() {
  p_ = end_;
  return Status(StatusCode::kSyntaxError, std::string(kTruncatedText));
}

Status Reader::read_u8(uint8_t& v) {
  if (remaining() < 1) return underflow();
  v = *p_++;
  return Status();
}

Status Reader::read_u16(uint16_t& v) {
  if (remaining() < 2) return underflow();
  v = load_u16(p_);
  p_ += 2;
  return Status();
}

Status Reader::read_u32(uint32_t& v) {
  if (remaining() < 4) return underflow();
  v = load_u32(p_);
  p_ += 4;
  return Status();
}

Status Reader::read_u64(uint64_t& v) {
  if (remaining() < 8) return underflow();
  v = load_u64(p_);
  p_ += 8;
  return Status();
}

Status Reader::read_shortstr(std::string& v) {
  if (remaining() < 1) return underflow();
  const size_t n = p_[0];
  if (remaining() - 1 < n) return underflow();
  v.assign(reinterpret_cast<const char*>(p_ + 1), n);
  p_ += 1 + n;
  return Status();
}

Status Reader::read_longstr(std::string& v) {
  if (remaining() < 4) return underflow();
  const size_t n = load_u32(p_);
  if (remaining() - 4 < n) return underflow();
  v.assign(reinterpret_cast<const char*>(p_ + 4), n);
  p_ += 4 + n;
  return Status();
}

Status Reader::read_bytes(size_t n, std::string_view& v) {
  if (remaining() < n) return underflow();
  v = std::string_view(reinterpret_cast<const char*>(p_), n);
  p_ += n;
  return Status();
}

Status Reader::skip(size_t n) {
  if (remaining() < n) return underflow();
  p_ += n;
  return Status();
}

}  // namespace burrow::protocol
