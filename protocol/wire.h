// AMQP 0-9-1 primitive types on the wire: a bounds-checked Reader over received bytes and a
// Writer that appends to an output buffer. Integers are big-endian (network order).
//
//   octet      1 byte            short-string  u8 length + bytes (<= 255)
//   short      2 bytes           long-string   u32 length + bytes
//   long       4 bytes           timestamp     u64 seconds
//   longlong   8 bytes           table         u32 byte length + entries (field_table_codec.h)
//   bits       packed LSB-first into octets; consecutive bit fields share an octet
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include <burrow/status.h>

namespace burrow::protocol {

// Reads primitives from a byte range it does not own. Every read checks bounds: reading past
// the end returns a kSyntaxError status with kTruncatedText (see is_truncated) and leaves the
// reader at the end; nothing is allocated before the length is checked. For method arguments,
// RabbitMQ answers this with 501 FRAME_ERROR "cannot decode <<...>>", which decode_method
// (methods.h) produces. Not thread-safe.
class Reader {
 public:
  Reader(const void* data, size_t size) : p_(static_cast<const uint8_t*>(data)), end_(p_ + size) {}
  explicit Reader(std::string_view bytes) : Reader(bytes.data(), bytes.size()) {}

  size_t remaining() const { return static_cast<size_t>(end_ - p_); }
  const uint8_t* position() const { return p_; }

  Status read_u8(uint8_t& v);
  Status read_u16(uint16_t& v);
  Status read_u32(uint32_t& v);
  Status read_u64(uint64_t& v);
  Status read_shortstr(std::string& v);
  Status read_longstr(std::string& v);
  // A view of the next n bytes (valid as long as the underlying buffer is).
  Status read_bytes(size_t n, std::string_view& v);
  Status skip(size_t n);

 private:
  Status underflow();
  const uint8_t* p_;
  const uint8_t* end_;
};

// The message of the status a Reader returns when its input ends early.
inline constexpr std::string_view kTruncatedText = "truncated input";
// True for that status (kSyntaxError, kTruncatedText), as opposed to other decode errors.
bool is_truncated(const Status& status);

// Appends primitives to a std::string used as a byte buffer. Not thread-safe.
class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}

  std::string& buffer() { return out_; }
  size_t size() const { return out_.size(); }

  void put_u8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void put_u16(uint16_t v) {
    char b[2] = {static_cast<char>(v >> 8), static_cast<char>(v)};
    out_.append(b, 2);
  }
  void put_u32(uint32_t v) {
    char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
                 static_cast<char>(v)};
    out_.append(b, 4);
  }
  void put_u64(uint64_t v) {
    put_u32(static_cast<uint32_t>(v >> 32));
    put_u32(static_cast<uint32_t>(v));
  }
  // Short strings are at most 255 bytes; longer input is truncated (callers validate first).
  void put_shortstr(std::string_view s) {
    size_t n = s.size() > 255 ? 255 : s.size();
    put_u8(static_cast<uint8_t>(n));
    out_.append(s.data(), n);
  }
  void put_longstr(std::string_view s) {
    put_u32(static_cast<uint32_t>(s.size()));
    out_.append(s.data(), s.size());
  }
  void put_bytes(std::string_view s) { out_.append(s.data(), s.size()); }
  // Overwrites 4 bytes at `offset` (for length prefixes written after their content).
  void patch_u32(size_t offset, uint32_t v) {
    out_[offset] = static_cast<char>(v >> 24);
    out_[offset + 1] = static_cast<char>(v >> 16);
    out_[offset + 2] = static_cast<char>(v >> 8);
    out_[offset + 3] = static_cast<char>(v);
  }

 private:
  std::string& out_;
};

inline uint16_t load_u16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }
inline uint32_t load_u32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}
inline uint64_t load_u64(const uint8_t* p) {
  return (uint64_t{load_u32(p)} << 32) | load_u32(p + 4);
}

}  // namespace burrow::protocol
