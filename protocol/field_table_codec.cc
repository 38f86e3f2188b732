// Field table and array codec. Decoding checks every declared length against the bytes left
// before allocating (a table claiming 4 GB costs nothing) and bounds nesting by
// kMaxFieldTableDepth.
#include "protocol/field_table_codec.h"

#include <bit>
#include <string>
#include <utility>

#include "base/status_macros.h"

namespace burrow::protocol {
namespace {

Status malformed(std::string message) {
  return Status(StatusCode::kSyntaxError, std::move(message));
}

Status decode_table_at(Reader& r, FieldTable& out, int depth);
Status decode_array_at(Reader& r, FieldArray& out, int depth);

Status decode_value(Reader& r, uint8_t type, FieldValue& out, int depth) {
  switch (type) {
    case 't': {
      uint8_t v = 0;
      RETURN_IF_ERROR(r.read_u8(v));
      out = v != 0;  // RabbitMQ: any non-zero octet is true
      return Status();
    }
    case 'b': {
      uint8_t v = 0;
      RETURN_IF_ERROR(r.read_u8(v));
      out = static_cast<int8_t>(v);
      return Status();
    }
    case 'B': {
      uint8_t v = 0;
      RETURN_IF_ERROR(r.read_u8(v));
      out = v;
      return Status();
    }
    case 's':
    case 'u': {
      uint16_t v = 0;
      RETURN_IF_ERROR(r.read_u16(v));
      if (type == 's') {
        out = static_cast<int16_t>(v);
      } else {
        out = v;
      }
      return Status();
    }
    case 'I':
    case 'i':
    case 'f': {
      uint32_t v = 0;
      RETURN_IF_ERROR(r.read_u32(v));
      if (type == 'I') {
        out = static_cast<int32_t>(v);
      } else if (type == 'i') {
        out = v;
      } else {
        out = std::bit_cast<float>(v);
      }
      return Status();
    }
    case 'l':
    case 'L':  // RabbitMQ reads 'L' as a signed 64-bit `long` and writes it back as 'l'
    case 'd':
    case 'T': {
      uint64_t v = 0;
      RETURN_IF_ERROR(r.read_u64(v));
      if (type == 'd') {
        out = std::bit_cast<double>(v);
      } else if (type == 'T') {
        out = Timestamp{v};
      } else {
        out = static_cast<int64_t>(v);
      }
      return Status();
    }
    case 'D': {
      Decimal d;
      RETURN_IF_ERROR(r.read_u8(d.scale));
      RETURN_IF_ERROR(r.read_u32(d.value));
      out = d;
      return Status();
    }
    case 'S': {
      std::string s;
      RETURN_IF_ERROR(r.read_longstr(s));
      out = std::move(s);
      return Status();
    }
    case 'x': {
      Bytes b;
      RETURN_IF_ERROR(r.read_longstr(b.data));
      out = std::move(b);
      return Status();
    }
    case 'A': {
      FieldArray a;
      RETURN_IF_ERROR(decode_array_at(r, a, depth + 1));
      out = std::move(a);
      return Status();
    }
    case 'F': {
      FieldTable t;
      RETURN_IF_ERROR(decode_table_at(r, t, depth + 1));
      out = std::move(t);
      return Status();
    }
    case 'V':
      out = Void{};
      return Status();
    default:
      return malformed("unknown field type octet " + std::to_string(type));
  }
}

// Reads the u32 length and returns a reader over exactly that many bytes.
Status read_sized(Reader& r, Reader& inner) {
  uint32_t size = 0;
  RETURN_IF_ERROR(r.read_u32(size));
  std::string_view bytes;
  RETURN_IF_ERROR(r.read_bytes(size, bytes));
  inner = Reader(bytes);
  return Status();
}

Status decode_table_at(Reader& r, FieldTable& out, int depth) {
  if (depth > kMaxFieldTableDepth) return malformed("field tables nested too deeply");
  Reader in(nullptr, 0);
  RETURN_IF_ERROR(read_sized(r, in));
  auto& entries = out.entries();
  entries.clear();
  while (in.remaining() > 0) {
    FieldEntry& e = entries.emplace_back();
    uint8_t type = 0;
    RETURN_IF_ERROR(in.read_shortstr(e.name));
    RETURN_IF_ERROR(in.read_u8(type));
    RETURN_IF_ERROR(decode_value(in, type, e.value, depth));
  }
  return Status();
}

Status decode_array_at(Reader& r, FieldArray& out, int depth) {
  if (depth > kMaxFieldTableDepth) return malformed("field tables nested too deeply");
  Reader in(nullptr, 0);
  RETURN_IF_ERROR(read_sized(r, in));
  out.clear();
  while (in.remaining() > 0) {
    uint8_t type = 0;
    RETURN_IF_ERROR(in.read_u8(type));
    RETURN_IF_ERROR(decode_value(in, type, out.emplace_back(), depth));
  }
  return Status();
}

}  // namespace

void encode_table(const FieldTable& table, Writer& w) {
  const size_t at = w.size();
  w.put_u32(0);  // patched below
  for (const FieldEntry& e : table.entries()) {
    w.put_shortstr(e.name);
    encode_field_value(e.value, w);
  }
  w.patch_u32(at, static_cast<uint32_t>(w.size() - at - 4));
}

void encode_array(const FieldArray& array, Writer& w) {
  const size_t at = w.size();
  w.put_u32(0);
  for (const FieldValue& v : array) encode_field_value(v, w);
  w.patch_u32(at, static_cast<uint32_t>(w.size() - at - 4));
}

void encode_field_value(const FieldValue& value, Writer& w) {
  w.put_u8(static_cast<uint8_t>(value.type_code()));
  std::visit(
      [&w](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, bool>) {
          w.put_u8(v ? 1 : 0);
        } else if constexpr (std::is_same_v<T, int8_t> || std::is_same_v<T, uint8_t>) {
          w.put_u8(static_cast<uint8_t>(v));
        } else if constexpr (std::is_same_v<T, int16_t> || std::is_same_v<T, uint16_t>) {
          w.put_u16(static_cast<uint16_t>(v));
        } else if constexpr (std::is_same_v<T, int32_t> || std::is_same_v<T, uint32_t>) {
          w.put_u32(static_cast<uint32_t>(v));
        } else if constexpr (std::is_same_v<T, int64_t>) {
          w.put_u64(static_cast<uint64_t>(v));
        } else if constexpr (std::is_same_v<T, float>) {
          w.put_u32(std::bit_cast<uint32_t>(v));
        } else if constexpr (std::is_same_v<T, double>) {
          w.put_u64(std::bit_cast<uint64_t>(v));
        } else if constexpr (std::is_same_v<T, Decimal>) {
          w.put_u8(v.scale);
          w.put_u32(v.value);
        } else if constexpr (std::is_same_v<T, std::string>) {
          w.put_longstr(v);
        } else if constexpr (std::is_same_v<T, Bytes>) {
          w.put_longstr(v.data);
        } else if constexpr (std::is_same_v<T, FieldArray>) {
          encode_array(v, w);
        } else if constexpr (std::is_same_v<T, Timestamp>) {
          w.put_u64(v.seconds);
        } else if constexpr (std::is_same_v<T, FieldTable>) {
          encode_table(v, w);
        } else {
          static_assert(std::is_same_v<T, Void>);  // 'V' has no value bytes
        }
      },
      value.variant());
}

Status decode_table(Reader& r, FieldTable& out) { return decode_table_at(r, out, 1); }

Status decode_array(Reader& r, FieldArray& out) { return decode_array_at(r, out, 1); }

}  // namespace burrow::protocol
