// UTF-8 validation with the rules RabbitMQ 3.10.8 applies to method short strings
// (rabbit_binary_parser:assert_utf8/1, which calls xmerl_ucs:from_utf8/1).
#pragma once

#include <string_view>

namespace burrow::protocol {

// True when `s` decodes as xmerl_ucs decodes UTF-8: 1 to 4 byte sequences, none overlong.
// Like xmerl_ucs (and unlike RFC 3629) it accepts encoded surrogates (ED A0 80) and 4-byte
// sequences above U+10FFFF (F4 90 80 80 .. F7 BF BF BF), so Burrow accepts the same names
// RabbitMQ accepts. Pure function; thread-safe.
bool is_rabbit_utf8(std::string_view s);

}  // namespace burrow::protocol
