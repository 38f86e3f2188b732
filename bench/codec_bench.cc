// Protocol codec benchmarks: a basic.publish with its content header and body, encoded into
// frames as a client (or the server's basic.deliver path) writes them, and decoded back the
// way the server's reader does (frame split, method decode, content header decode, body
// frames gathered). Module: protocol only.
//
// Run: build/release/bin/burrow_codec_bench
//      build/release/bin/burrow_codec_bench --benchmark_filter=Decode
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <variant>

#include "protocol/content_header.h"
#include "protocol/frame.h"
#include "protocol/frame_writer.h"
#include "protocol/methods.h"
#include "protocol/wire.h"

namespace {

namespace pr = burrow::protocol;

constexpr uint32_t kFrameMax = 131072;  // RabbitMQ's default, what clients negotiate

// The properties a typical application sets: persistent, a content type, a message id, a
// timestamp and two headers.
burrow::BasicProperties typical_properties() {
  burrow::BasicProperties p;
  p.content_type = "application/json";
  p.delivery_mode = 2;
  p.message_id = "3f1c2a9e-7b4d-4e21-9c55-0a1b2c3d4e5f";
  p.timestamp = 1763900000;
  p.headers = burrow::FieldTable{{"tenant", "acme"}, {"attempt", int32_t{1}}};
  return p;
}

pr::BasicPublish typical_publish() {
  pr::BasicPublish m;
  m.exchange = "orders";
  m.routing_key = "order.created.eu";
  return m;
}

// Method frame + content header frame + body frame(s) for one publish, appended to `out`.
// `encoded_properties` is reused across messages, as a client publishing with the same
// properties would (and as the server forwards raw_properties).
void encode_publish(std::string& out, const pr::BasicPublish& method,
                    const std::string& encoded_properties, const std::string& body) {
  pr::append_method_frame(out, 1, method);
  pr::append_content_frames(out, 1, 60, encoded_properties, body, kFrameMax);
}

// Encode: frames for one publish per iteration into a buffer that is cleared (not freed),
// as a connection's output buffer is. Arg: body size.
void BM_EncodePublish(benchmark::State& state) {
  const std::string body(static_cast<size_t>(state.range(0)), 'x');
  const pr::BasicPublish method = typical_publish();
  std::string props;
  pr::Writer pw(props);
  pr::encode_properties(typical_properties(), pw);
  std::string out;
  out.reserve(body.size() + 1024);
  for (auto _ : state) {
    out.clear();
    encode_publish(out, method, props, body);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(out.size()));
}
BENCHMARK(BM_EncodePublish)->Arg(16)->Arg(1024)->Arg(65536)->Arg(1 << 20);

// The same, encoding the properties for every message as well (a client whose properties
// change per message: message_id, timestamp).
void BM_EncodePublishWithProperties(benchmark::State& state) {
  const std::string body(static_cast<size_t>(state.range(0)), 'x');
  const pr::BasicPublish method = typical_publish();
  const burrow::BasicProperties properties = typical_properties();
  std::string out;
  std::string props;
  for (auto _ : state) {
    out.clear();
    props.clear();
    pr::Writer pw(props);
    pr::encode_properties(properties, pw);
    encode_publish(out, method, props, body);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EncodePublishWithProperties)->Arg(16)->Arg(1024);

// Decode: the server reader's work for one publish: split frames with FrameReader, decode
// the method (reusing the Method variant's storage), decode the content header (properties
// parsed, raw bytes kept), gather the body frames into one string. Arg: body size.
void BM_DecodePublish(benchmark::State& state) {
  const std::string body(static_cast<size_t>(state.range(0)), 'x');
  std::string props;
  pr::Writer pw(props);
  pr::encode_properties(typical_properties(), pw);
  std::string wire;
  encode_publish(wire, typical_publish(), props, body);

  const pr::FrameReader reader(kFrameMax);
  pr::Method method;
  pr::ContentHeader header;
  std::string assembled;
  for (auto _ : state) {
    std::string_view rest = wire;
    pr::Frame frame;
    auto used = reader.parse(rest, frame);
    if (!used.ok() || *used == 0 || !pr::decode_method(frame.payload, method).ok()) {
      state.SkipWithError("method frame did not decode");
      break;
    }
    rest.remove_prefix(*used);
    used = reader.parse(rest, frame);
    if (!used.ok() || *used == 0 || !pr::decode_content_header(frame.payload, header).ok()) {
      state.SkipWithError("content header did not decode");
      break;
    }
    rest.remove_prefix(*used);
    assembled.clear();
    while (assembled.size() < header.body_size) {
      used = reader.parse(rest, frame);
      if (!used.ok() || *used == 0 || frame.type != pr::FrameType::kBody) break;
      assembled.append(frame.payload);
      rest.remove_prefix(*used);
    }
    if (assembled.size() != header.body_size) {
      state.SkipWithError("body frames did not add up");
      break;
    }
    benchmark::DoNotOptimize(std::get_if<pr::BasicPublish>(&method));
    benchmark::DoNotOptimize(assembled.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(wire.size()));
}
BENCHMARK(BM_DecodePublish)->Arg(16)->Arg(1024)->Arg(65536)->Arg(1 << 20);

// Frame splitting alone over a buffer of many small publishes (what one socket read of a fast
// publisher holds): frames per second through FrameReader::parse.
void BM_FrameReaderSplit(benchmark::State& state) {
  std::string props;
  pr::Writer pw(props);
  pr::encode_properties(typical_properties(), pw);
  const std::string body(16, 'x');
  std::string wire;
  while (wire.size() < 64 * 1024) encode_publish(wire, typical_publish(), props, body);
  const pr::FrameReader reader(kFrameMax);
  int64_t frames = 0;
  for (auto _ : state) {
    std::string_view rest = wire;
    pr::Frame frame;
    while (!rest.empty()) {
      auto used = reader.parse(rest, frame);
      if (!used.ok() || *used == 0) break;
      rest.remove_prefix(*used);
      ++frames;
    }
    benchmark::DoNotOptimize(frame.payload.data());
  }
  state.SetItemsProcessed(frames);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(wire.size()));
}
BENCHMARK(BM_FrameReaderSplit);

}  // namespace

BENCHMARK_MAIN();
