// decode_method, encode_method and the per-method facts, built once over the Method variant at
// compile time (tables indexed by the variant index) instead of being generated per method.
#include <array>
#include <string>
#include <utility>

#include "protocol/erlang_text.h"
#include "protocol/frame.h"
#include "protocol/methods.h"

namespace burrow::protocol {
namespace {

static_assert(std::variant_size_v<Method> == kMethodCount);

struct MethodInfo {
  uint16_t class_id;
  uint16_t method_id;
  std::string_view name;
  bool has_content;
};

template <size_t... I>
constexpr std::array<MethodInfo, sizeof...(I)> make_info(std::index_sequence<I...>) {
  return {MethodInfo{std::variant_alternative_t<I, Method>::kClassId,
                     std::variant_alternative_t<I, Method>::kMethodId,
                     std::variant_alternative_t<I, Method>::kName,
                     std::variant_alternative_t<I, Method>::kHasContent}...};
}
constexpr auto kInfo = make_info(std::make_index_sequence<kMethodCount>());

// RabbitMQ decodes arguments by matching the whole binary against the method's layout
// (rabbit_framing_amqp_0_9_1:decode_method_fields/2), so too few bytes and too many bytes both
// fail the match and land in rabbit_misc:frame_error/2: "cannot decode ~w".
template <size_t I>
Status decode_alternative(std::string_view args, Method& out) {
  using M = std::variant_alternative_t<I, Method>;
  M* m = std::get_if<I>(&out);
  if (m == nullptr) m = &out.template emplace<I>();
  Reader r(args);
  Status s = M::decode(r, *m);
  if (s.ok() ? r.remaining() != 0 : is_truncated(s)) {
    return Status(StatusCode::kFrameError, cannot_decode_text(args));
  }
  return s;
}

using DecodeFn = Status (*)(std::string_view, Method&);
template <size_t... I>
constexpr std::array<DecodeFn, sizeof...(I)> make_decoders(std::index_sequence<I...>) {
  return {&decode_alternative<I>...};
}
constexpr auto kDecoders = make_decoders(std::make_index_sequence<kMethodCount>());

}  // namespace

Status decode_method(std::string_view payload, Method& out) {
  if (payload.size() < 4) {
    return Status(StatusCode::kFrameError,
                  unknown_frame_text(static_cast<uint8_t>(FrameType::kMethod), payload));
  }
  const auto* p = reinterpret_cast<const uint8_t*>(payload.data());
  const uint16_t class_id = load_u16(p);
  const uint16_t method_id = load_u16(p + 2);
  const int i = method_index(class_id, method_id);
  if (i < 0) {
    // The exit reason RabbitMQ logs: {unknown_method_id,{60,999}}.
    return Status(StatusCode::kNotImplemented, "{unknown_method_id,{" + std::to_string(class_id) +
                                                   "," + std::to_string(method_id) + "}}");
  }
  return kDecoders[static_cast<size_t>(i)](payload.substr(4), out);
}

bool is_unknown_method(const Status& status) {
  return status.code() == StatusCode::kNotImplemented &&
         status.message().starts_with("{unknown_method_id,");
}

void encode_method(const Method& method, Writer& w) {
  std::visit(
      [&w](const auto& m) {
        w.put_u16(m.kClassId);
        w.put_u16(m.kMethodId);
        m.encode(w);
      },
      method);
}

std::string_view method_name(uint16_t class_id, uint16_t method_id) {
  const int i = method_index(class_id, method_id);
  return i < 0 ? std::string_view() : kInfo[static_cast<size_t>(i)].name;
}

std::string_view method_name(const Method& method) { return kInfo[method.index()].name; }

uint16_t method_class_id(const Method& method) { return kInfo[method.index()].class_id; }

uint16_t method_method_id(const Method& method) { return kInfo[method.index()].method_id; }

bool method_has_content(uint16_t class_id, uint16_t method_id) {
  const int i = method_index(class_id, method_id);
  return i >= 0 && kInfo[static_cast<size_t>(i)].has_content;
}

}  // namespace burrow::protocol
