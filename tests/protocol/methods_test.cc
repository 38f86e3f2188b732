// Generated methods: every method round-trips, bits pack LSB first, and decode_method fails as
// RabbitMQ 3.10.8 does (texts observed on a RabbitMQ 3.10.8 node fed raw frames).
#include "protocol/methods.h"

#include <set>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "protocol/erlang_text.h"
#include "protocol/method_args.h"
#include "tests/protocol/method_samples.h"

namespace burrow::protocol {
namespace {

using testing::sample;

// Every alternative of Method, sampled with value set v. sample<M> is generated per method; an
// alternative without one would fail to link, so the pack expansion is the coverage proof.
template <size_t... I>
std::vector<Method> all_samples(int v, std::index_sequence<I...>) {
  return {Method(std::in_place_index<I>, sample<std::variant_alternative_t<I, Method>>(v))...};
}
std::vector<Method> all_samples(int v) {
  return all_samples(v, std::make_index_sequence<std::variant_size_v<Method>>());
}

static_assert(std::variant_size_v<Method> == kMethodCount);
// 52 spec methods, 8 RabbitMQ additions in the XML (confirm.*, exchange.bind/unbind(-ok),
// basic.nack) and 6 from rabbitmq_extensions.xml (connection.blocked/unblocked/update-secret(-ok),
// access.request(-ok)).
static_assert(kMethodCount == 66);

std::string encode(const Method& m) {
  std::string out;
  Writer w(out);
  encode_method(m, w);
  return out;
}

TEST(Methods, EveryMethodIsSampledOnce) {
  for (int v : {0, 1}) {
    const auto samples = all_samples(v);
    ASSERT_EQ(samples.size(), kMethodCount);
    std::set<size_t> indexes;
    std::set<std::pair<uint16_t, uint16_t>> ids;
    for (const Method& m : samples) {
      indexes.insert(m.index());
      ids.insert({method_class_id(m), method_method_id(m)});
    }
    EXPECT_EQ(indexes.size(), kMethodCount);
    EXPECT_EQ(ids.size(), kMethodCount);
  }
}

TEST(Methods, SamplesAreNotDefaults) {
  // Each method with fields differs from its default in every field type the method has, so a
  // decoder that dropped a field would be caught by the round trip below.
  for (const Method& m : all_samples(0)) {
    const bool has_fields = encode(m).size() > 4;
    std::visit(
        [&](const auto& x) {
          using M = std::decay_t<decltype(x)>;
          if (has_fields) {
            EXPECT_FALSE(x == M{}) << M::kName;
          }
        },
        m);
  }
}

TEST(Methods, EveryMethodRoundTrips) {
  for (int v : {0, 1}) {
    for (const Method& m : all_samples(v)) {
      const std::string bytes = encode(m);
      Method back;
      Status s = decode_method(bytes, back);
      ASSERT_TRUE(s.ok()) << method_name(m) << ": " << s.to_string();
      EXPECT_EQ(back.index(), m.index()) << method_name(m);
      EXPECT_TRUE(back == m) << method_name(m) << " v=" << v;
      EXPECT_EQ(encode(back), bytes) << method_name(m);
    }
  }
}

TEST(Methods, StructCodecsMatchTheVariantCodec) {
  for (const Method& m : all_samples(1)) {
    std::visit(
        [&](const auto& x) {
          using M = std::decay_t<decltype(x)>;
          std::string args;
          Writer w(args);
          x.encode(w);
          EXPECT_EQ(4 + args.size(), encode(m).size());
          EXPECT_EQ(encode(m).substr(4), args) << M::kName;
          Reader r(args);
          M back;
          ASSERT_TRUE(M::decode(r, back).ok()) << M::kName;
          EXPECT_EQ(back, x) << M::kName;
          EXPECT_EQ(r.remaining(), 0u);
        },
        m);
  }
}

TEST(Methods, TruncatedArgumentsCannotBeDecodedAtEveryOffset) {
  for (const Method& m : all_samples(0)) {
    const std::string bytes = encode(m);
    for (size_t n = 4; n < bytes.size(); ++n) {
      Method back;
      Status s = decode_method(bytes.substr(0, n), back);
      ASSERT_EQ(s.code(), StatusCode::kFrameError) << method_name(m) << " cut at " << n;
      EXPECT_EQ(s.message(), cannot_decode_text(std::string_view(bytes).substr(4, n - 4)));
    }
  }
}

TEST(Methods, TrailingBytesCannotBeDecoded) {
  // Observed: basic.ack plus one byte -> "FRAME_ERROR - cannot decode <<0,0,0,0,0,0,0,1,0,7>>".
  Method m;
  Status s = decode_method(std::string("\x00\x3c\x00\x50"
                                       "\0\0\0\0\0\0\0\x01\x00\x07",
                                       14),
                           m);
  EXPECT_EQ(s.code(), StatusCode::kFrameError);
  EXPECT_EQ(s.message(), "cannot decode <<0,0,0,0,0,0,0,1,0,7>>");
  // Observed: basic.ack one byte short.
  s = decode_method(std::string("\x00\x3c\x00\x50"
                                "\0\0\0\0\0\0\0\x01",
                                12),
                    m);
  EXPECT_EQ(s.message(), "cannot decode <<0,0,0,0,0,0,0,1>>");
  // Methods without arguments too.
  s = decode_method(std::string("\x00\x5a\x00\x0a"
                                "x",
                                5),
                    m);
  EXPECT_EQ(s.message(), "cannot decode <<120>>");
  for (const Method& sample_method : all_samples(1)) {
    EXPECT_EQ(decode_method(encode(sample_method) + '\0', m).code(), StatusCode::kFrameError)
        << method_name(sample_method);
  }
}

TEST(Methods, UnknownMethodIsReportedAsRabbitMqLogsIt) {
  Method m;
  Status s = decode_method(std::string("\x00\x3c\x03\xe7", 4), m);
  EXPECT_EQ(s.code(), StatusCode::kNotImplemented);
  EXPECT_EQ(s.message(), "{unknown_method_id,{60,999}}");
  EXPECT_TRUE(is_unknown_method(s));
  s = decode_method(std::string("\x00\x1e\x00\x0c", 4), m);  // access has only 10 and 11
  EXPECT_EQ(s.message(), "{unknown_method_id,{30,12}}");
  s = decode_method(std::string("\x00\x3c\x00\xc8", 4), m);  // basic.credit: left out
  EXPECT_TRUE(is_unknown_method(s));
  EXPECT_FALSE(is_unknown_method(Status()));
  EXPECT_FALSE(is_unknown_method(not_implemented("something else")));
  EXPECT_EQ(method_index(60, 999), -1);
}

TEST(Methods, AccessRequestDecodesAsRabbitMqDoes) {
  // Dropped from the 0-9-1 spec, still in RabbitMQ 3.10.8's codec: realm, then five bits.
  Method m;
  ASSERT_TRUE(decode_method(std::string("\x00\x1e\x00\x0a\x01/\x1f", 7), m).ok());
  const auto* request = std::get_if<AccessRequest>(&m);
  ASSERT_NE(request, nullptr);
  EXPECT_EQ(request->realm, "/");
  EXPECT_TRUE(request->exclusive && request->passive && request->active && request->write &&
              request->read);
  std::string out;
  Writer w(out);
  encode_method(AccessRequestOk{1}, w);
  EXPECT_EQ(out, std::string("\x00\x1e\x00\x0b\x00\x01", 6));
}

TEST(Methods, PayloadShorterThanTheIdsIsAnUnknownFrame) {
  Method m;
  Status s = decode_method(std::string("\x00\x3c", 2), m);
  EXPECT_EQ(s.code(), StatusCode::kFrameError);
  EXPECT_EQ(s.message(), "type 1, all octets = <<0,60>>: unknown_frame");
}

TEST(Methods, BitsPackLeastSignificantFirst) {
  QueueDeclare q;
  q.queue = "q";
  q.durable = true;      // bit 1
  q.auto_delete = true;  // bit 3
  std::string bytes = encode(q);
  EXPECT_EQ(bytes, std::string("\x00\x32\x00\x0a\x00\x00\x01q\x0a\x00\x00\x00\x00", 13));

  BasicNack nack;
  nack.delivery_tag = 9;
  nack.requeue = true;  // bit 1; multiple (bit 0) clear
  EXPECT_EQ(encode(nack), std::string("\x00\x3c\x00\x78\0\0\0\0\0\0\0\x09\x02", 13));

  // A non-bit field ends the octet: exchange.declare's five bits share one octet before the
  // table; basic.deliver's lone bit sits between a longlong and a short string.
  ExchangeDeclare x;
  x.passive = x.durable = x.auto_delete = x.internal = x.no_wait = true;
  EXPECT_EQ(encode(x), std::string("\x00\x28\x00\x0a\x00\x00\x00\x00\x1f\x00\x00\x00\x00", 13));
  BasicDeliver d;
  d.redelivered = true;
  EXPECT_EQ(encode(d), std::string("\x00\x3c\x00\x3c\x00"
                                   "\0\0\0\0\0\0\0\0"
                                   "\x01\x00\x00",
                                   16));
  EXPECT_EQ(pack_bits({}), 0);
  EXPECT_EQ(pack_bits({false, false, false, false, false, false, false, true}), 0x80);
}

TEST(Methods, UnusedBitsAreIgnored) {
  // RabbitMQ tests each bit with `band`, so set high bits are accepted and dropped.
  Method m;
  ASSERT_TRUE(decode_method(std::string("\x00\x3c\x00\x50"
                                        "\0\0\0\0\0\0\0\x01\xff",
                                        13),
                            m)
                  .ok());
  EXPECT_TRUE(std::get<BasicAck>(m).multiple);
}

TEST(Methods, ShortStringsOfMethodsWithoutContentMustBeUtf8) {
  // Observed: queue.declare of "q\xff" -> "FRAME_ERROR - Malformed UTF-8 in shortstr".
  Method m;
  QueueDeclare q;
  q.queue = "q\xff";
  Status s = decode_method(encode(q), m);
  EXPECT_EQ(s.code(), StatusCode::kFrameError);
  EXPECT_EQ(s.message(), "Malformed UTF-8 in shortstr");
  // basic.publish has content: RabbitMQ does not check its exchange or routing key.
  BasicPublish p;
  p.routing_key = "\xff\xfe";
  ASSERT_TRUE(decode_method(encode(p), m).ok());
  EXPECT_EQ(std::get<BasicPublish>(m).routing_key, "\xff\xfe");
}

TEST(Methods, LayoutErrorsWinOverContentErrors) {
  // Bad UTF-8 in the queue name and the arguments cut short: RabbitMQ's binary match fails
  // before assert_utf8 runs, so the reply is "cannot decode".
  QueueDeclare q;
  q.queue = "\xff";
  const std::string bytes = encode(q);
  Method m;
  Status s = decode_method(bytes.substr(0, bytes.size() - 1), m);
  EXPECT_EQ(s.code(), StatusCode::kFrameError);
  EXPECT_TRUE(s.message().starts_with("cannot decode <<")) << s.message();
  // Content errors are reported first field first.
  QueueBind b;
  b.queue = "\xff";
  b.arguments = FieldTable{{"k", 1}};
  std::string bind = encode(b);
  bind[bind.size() - 5] = 'Z';  // the type octet of the argument
  EXPECT_EQ(decode_method(bind, m).message(), "Malformed UTF-8 in shortstr");
}

TEST(Methods, MalformedTableContentIsASyntaxError) {
  // RabbitMQ 3.10.8 crashes the connection on this (function_clause in parse_table); Burrow
  // reports it as a status the server can act on.
  QueueDeclare q;
  q.arguments = FieldTable{{"x-max-length", 10}};
  std::string bytes = encode(q);
  bytes[bytes.size() - 5] = 'Z';
  Method m;
  Status s = decode_method(bytes, m);
  EXPECT_EQ(s.code(), StatusCode::kSyntaxError);
  EXPECT_EQ(s.message(), "malformed field table: unknown field type octet 90");
  EXPECT_FALSE(is_truncated(s));
  // A table whose entries run past its own size is a content error too, not "cannot decode".
  bytes = encode(q);
  bytes[bytes.size() - 18] = '\xff';  // the entry name's length: past the table's end
  s = decode_method(bytes, m);
  EXPECT_EQ(s.code(), StatusCode::kSyntaxError) << s.message();
  EXPECT_EQ(s.message(), "malformed field table: truncated input");
}

TEST(Methods, DecodeReusesAndOverwritesTheHeldMethod) {
  BasicPublish first;
  first.exchange = std::string(100, 'e');
  first.routing_key = "rk";
  first.mandatory = true;
  Method m;
  ASSERT_TRUE(decode_method(encode(first), m).ok());
  const char* storage = std::get<BasicPublish>(m).exchange.data();
  BasicPublish second;
  second.exchange = "short";
  ASSERT_TRUE(decode_method(encode(second), m).ok());
  EXPECT_EQ(std::get<BasicPublish>(m), second);
  EXPECT_EQ(std::get<BasicPublish>(m).exchange.data(), storage);  // capacity kept
  QueueDeclare q;
  q.arguments = FieldTable{{"a", 1}};
  ASSERT_TRUE(decode_method(encode(q), m).ok());
  QueueDeclare empty;
  ASSERT_TRUE(decode_method(encode(empty), m).ok());
  EXPECT_EQ(std::get<QueueDeclare>(m), empty);  // the old table does not leak through
}

TEST(Methods, NamesIdsAndContent) {
  EXPECT_EQ(method_name(60, 40), "basic.publish");
  EXPECT_EQ(method_name(50, 11), "queue.declare-ok");
  EXPECT_EQ(method_name(10, 70), "connection.update-secret");
  EXPECT_EQ(method_name(60, 999), "");
  EXPECT_EQ(method_name(Method(TxCommitOk{})), "tx.commit-ok");
  EXPECT_EQ(method_class_id(Method(ConfirmSelect{})), 85);
  EXPECT_EQ(method_method_id(Method(ExchangeUnbindOk{})), 51);
  std::set<std::string_view> with_content;
  for (const Method& m : all_samples(0)) {
    if (method_has_content(method_class_id(m), method_method_id(m))) {
      with_content.insert(method_name(m));
    }
    EXPECT_EQ(method_index(method_class_id(m), method_method_id(m)), static_cast<int>(m.index()));
  }
  EXPECT_EQ(with_content, (std::set<std::string_view>{"basic.publish", "basic.return",
                                                      "basic.deliver", "basic.get-ok"}));
  EXPECT_FALSE(method_has_content(60, 999));
  EXPECT_TRUE(BasicGetOk::kHasContent);
  EXPECT_TRUE(ConnectionStart::kSynchronous);
  EXPECT_FALSE(BasicPublish::kSynchronous);
  EXPECT_FALSE(ChannelFlowOk::kSynchronous);  // as the XML has it
  EXPECT_EQ(ConnectionStart::kName, "connection.start");
  EXPECT_EQ(static_cast<uint16_t>(ClassId::kConfirm), 85);
  EXPECT_EQ(kReplySuccess, 200);
  EXPECT_EQ(kNoRoute, 312);
  EXPECT_EQ(kInternalError, 541);
}

TEST(Methods, ExtensionLayouts) {
  // As rabbit_framing_amqp_0_9_1:decode_method_fields/2 of RabbitMQ 3.10.8 reads them.
  ConnectionBlocked blocked;
  blocked.reason = "low on memory";
  EXPECT_EQ(encode(blocked), std::string("\x00\x0a\x00\x3c\x0dlow on memory", 18));
  EXPECT_EQ(encode(ConnectionUnblocked{}), std::string("\x00\x0a\x00\x3d", 4));
  ConnectionUpdateSecret update;
  update.new_secret = "tok";
  update.reason = "r";
  EXPECT_EQ(encode(update), std::string("\x00\x0a\x00\x46\x00\x00\x00\x03tok\x01r", 13));
  EXPECT_EQ(encode(ConnectionUpdateSecretOk{}), std::string("\x00\x0a\x00\x47", 4));
}

}  // namespace
}  // namespace burrow::protocol
