// RabbitMQ's reply texts for input it cannot parse, rendered byte for byte as Erlang's
// io_lib:format renders them in RabbitMQ 3.10.8 (line breaks of `~p` included), so a client sees
// the same connection.close text from Burrow as from RabbitMQ.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace burrow::protocol {

// rabbit_binary_parser:assert_utf8/1: a short string of a method without content is not UTF-8.
inline constexpr std::string_view kMalformedUtf8Text = "Malformed UTF-8 in shortstr";

// The texts below are the explanation only; the reply text adds "FRAME_ERROR - " or
// "UNEXPECTED_FRAME - " in front (see base/reply.h). RabbitMQ source (3.10.8,
// deps/rabbit/src/rabbit_reader.erl):
//
//   frame_error(Error, Type, Channel, Payload, State) ->
//       {Str, Bin} = payload_snippet(Payload),
//       handle_exception(State, Channel,
//                        rabbit_misc:amqp_error(frame_error,
//                                               "type ~p, ~s octets = ~p: ~p",
//                                               [Type, Str, Bin, Error], none)).
//   unexpected_frame(Type, Channel, Payload, State) -> ... "type ~p, ~s octets = ~p" ...
//   payload_snippet(Payload) when size(Payload) =< 16 -> {"all", Payload};
//   payload_snippet(<<Snippet:16/binary, _/binary>>) -> {"first 16", Snippet}.
//
// `~p` prints a binary as <<"text">> when every byte is printable Latin-1 and as <<1,2,3>>
// otherwise, and breaks a term over lines when it does not fit in 80 columns: e.g.
// "type 1, all octets = <<0,60,0,80,0,0,0,0,0,0,0,0,0>>: {invalid_frame_end_marker,\n" followed by
// 55 spaces and "0}". Printable bytes 160-255 are copied as raw Latin-1 bytes, as RabbitMQ does.

// A frame header announced more than frame_max payload bytes:
// "type 1, all octets = <<>>: {frame_too_large,200000,131064}" (the last number is
// frame_max - 8, as RabbitMQ prints it).
std::string frame_too_large_text(uint8_t type, uint32_t payload_size, uint32_t frame_max);
// The octet after the payload was not 0xCE: "type 1, all octets = <<...>>:
// {invalid_frame_end_marker,0}".
std::string invalid_frame_end_text(uint8_t type, std::string_view payload, uint8_t end_marker);
// rabbit_command_assembler:analyze_frame/3 returned error: an unknown frame type, a method frame
// shorter than 4 bytes, a content header shorter than 14 bytes or a heartbeat with a payload:
// "type 5, all octets = <<\"abc\">>: unknown_frame".
std::string unknown_frame_text(uint8_t type, std::string_view payload);
// A frame the connection did not expect in its state (505 UNEXPECTED_FRAME), e.g. a heartbeat on
// a channel other than 0: "type 8, all octets = <<>>".
std::string unexpected_frame_text(uint8_t type, std::string_view payload);
// Method arguments that do not match the method's layout (too short or too long):
// rabbit_misc:frame_error/2 -> "cannot decode ~w", e.g. "cannot decode <<0,0,0,1>>". Capped a
// little over 255 bytes: the reply text is cut there anyway.
std::string cannot_decode_text(std::string_view args);

}  // namespace burrow::protocol
