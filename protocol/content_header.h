// The content header frame's payload: class id, weight, body size and the basic properties.
//
//   +----------+--------+---------------+-----------------+-------------------------+
//   | class u16| weight | body size u64 | flags u16 (...) | present properties, in  |
//   |          | u16 (0)|               | bit 15 = first  | declaration order       |
//   +----------+--------+---------------+-----------------+-------------------------+
//
// A flags word whose bit 0 is set is followed by another flags word (continuation). Basic's 14
// properties fit in the first word, so later words must be empty. (RabbitMQ 3.10.8 ignores the
// continuation bit; no client sets it.)
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <burrow/properties.h>
#include <burrow/status.h>

#include "protocol/wire.h"

namespace burrow::protocol {

struct ContentHeader {
  uint16_t class_id = 60;
  uint16_t weight = 0;
  uint64_t body_size = 0;
  BasicProperties properties;
  // The encoded flags + property bytes exactly as received (decode fills it), so a broker can
  // forward properties without re-encoding them.
  std::string_view raw_properties;
};

// Decodes a content header payload. Errors: kSyntaxError for truncated or malformed input,
// including bytes after the last property (RabbitMQ's decode_properties requires none).
// out.raw_properties points into `payload`.
Status decode_content_header(std::string_view payload, ContentHeader& out);

// Encodes the property flags and the present properties (no class/weight/size).
void encode_properties(const BasicProperties& properties, Writer& w);
// Decodes flags + properties from `r`.
Status decode_properties(Reader& r, BasicProperties& out);
// Decodes flags + properties that must fill `bytes` exactly (a content header's properties
// as received, ContentHeader::raw_properties). Errors: as decode_content_header.
Status decode_properties_exactly(std::string_view bytes, BasicProperties& out);

// Appends a whole content header payload: class id, weight 0, body size, then properties as
// already-encoded bytes (from encode_properties or ContentHeader::raw_properties).
void encode_content_header(uint16_t class_id, uint64_t body_size,
                           std::string_view encoded_properties, Writer& w);

}  // namespace burrow::protocol
