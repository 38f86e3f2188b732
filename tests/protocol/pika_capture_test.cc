// Byte-exact tests against frames a real client and a real broker exchanged: pika 1.2.0
// (Debian's python3-pika, /usr/bin/python3) talking to RabbitMQ 3.10.8 (Debian's
// rabbitmq-server). Captured with tests/protocol/capture_pika.py, which runs pika through a
// recording TCP proxy: connect as guest, declare an exclusive queue with arguments, publish one
// message with all 14 properties, basic.get it, ack it, close. Each constant is one whole frame
// (header, payload, end octet) in hex.
//
// Each test decodes the captured bytes, checks the values pika or RabbitMQ meant to send, and
// re-encodes them to the same bytes.
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "protocol/content_header.h"
#include "protocol/frame.h"
#include "protocol/frame_writer.h"
#include "protocol/methods.h"
#include "tests/protocol/hex.h"

namespace burrow::protocol {
namespace {

// pika -> RabbitMQ

constexpr std::string_view kStartOk =
    "01000000000122000a000b000000fe0770726f64756374530000001a50696b6120507974686f6e20436c69656e74"
    "204c69627261727908706c6174666f726d530000000d507974686f6e20332e31312e320c6361706162696c697469"
    "6573460000006f1c61757468656e7469636174696f6e5f6661696c7572655f636c6f736574010a62617369632e6e"
    "61636b740112636f6e6e656374696f6e2e626c6f636b6564740116636f6e73756d65725f63616e63656c5f6e6f74"
    "6966797401127075626c69736865725f636f6e6669726d7374010b696e666f726d6174696f6e5300000018536565"
    "20687474703a2f2f70696b612e727466642e6f72670776657273696f6e5300000005312e322e3005504c41494e00"
    "00000c00677565737400677565737405656e5f5553ce";
constexpr std::string_view kTuneOk = "0100000000000c000a001f07ff00020000003cce";
constexpr std::string_view kConnectionOpen = "01000000000008000a0028012f0001ce";
constexpr std::string_view kChannelOpen = "010001000000050014000a00ce";
constexpr std::string_view kQueueDeclare =
    "010001000000740032000a00000e627572726f772d63617074757265040000005a0d782d6d6573736167652d7474"
    "6c490000ea600c782d6d61782d6c656e677468490000000a0c782d71756575652d747970655300000007636c6173"
    "73696316782d646561642d6c65747465722d65786368616e67655300000000ce";
constexpr std::string_view kBasicPublish =
    "01000100000017003c00280000000e627572726f772d6361707475726500ce";
constexpr std::string_view kPublishHeader =
    "020001000000b5003c0000000000000000000dfffc106170706c69636174696f6e2f6a736f6e057574662d380000"
    "0041057472616365530000000361626307617474656d70744900000003066e65737465644600000005026f6b7401"
    "0474616773410000000b5300000001614900000001020506636f72722d31077265706c696573053630303030056d"
    "73672d310000000065937d250d6f726465722e63726561746564056775657374076361707475726509636c757374"
    "65722d61ce";
constexpr std::string_view kPublishBody = "0300010000000d7b226f72646572223a2034327dce";
constexpr std::string_view kBasicGet =
    "01000100000016003c004600000e627572726f772d6361707475726500ce";
constexpr std::string_view kBasicAck = "0100010000000d003c0050000000000000000100ce";
constexpr std::string_view kChannelClose =
    "0100010000001a0014002800000f4e6f726d616c2073687574646f776e00000000ce";
constexpr std::string_view kConnectionClose =
    "0100000000001a000a003200c80f4e6f726d616c2073687574646f776e00000000ce";

// RabbitMQ -> pika

constexpr std::string_view kConnectionStart =
    "010000000001f0000a000a0009000001cb0c6361706162696c697469657346000000c7127075626c69736865725f"
    "636f6e6669726d7374011a65786368616e67655f65786368616e67655f62696e64696e677374010a62617369632e"
    "6e61636b740116636f6e73756d65725f63616e63656c5f6e6f74696679740112636f6e6e656374696f6e2e626c6f"
    "636b6564740113636f6e73756d65725f7072696f72697469657374011c61757468656e7469636174696f6e5f6661"
    "696c7572655f636c6f73657401107065725f636f6e73756d65725f716f7374010f6469726563745f7265706c795f"
    "746f74010c636c75737465725f6e616d65530000000972616262697440766d09636f707972696768745300000037"
    "436f707972696768742028632920323030372d3230323220564d776172652c20496e632e206f7220697473206166"
    "66696c69617465732e0b696e666f726d6174696f6e53000000394c6963656e73656420756e64657220746865204d"
    "504c20322e302e20576562736974653a2068747470733a2f2f7261626269746d712e636f6d08706c6174666f726d"
    "530000001145726c616e672f4f54502032352e322e330770726f6475637453000000085261626269744d51077665"
    "7273696f6e5300000006332e31302e380000000e414d51504c41494e20504c41494e00000005656e5f5553ce";
constexpr std::string_view kTune = "0100000000000c000a001e07ff00020000003cce";
constexpr std::string_view kConnectionOpenOk = "01000000000005000a002900ce";
constexpr std::string_view kChannelOpenOk = "010001000000080014000b00000000ce";
constexpr std::string_view kQueueDeclareOk =
    "0100010000001b0032000b0e627572726f772d636170747572650000000000000000ce";
constexpr std::string_view kBasicGetOk =
    "01000100000021003c0047000000000000000100000e627572726f772d6361707475726500000000ce";
constexpr std::string_view kGetOkHeader =
    "020001000000b5003c0000000000000000000dfffc106170706c69636174696f6e2f6a736f6e057574662d380000"
    "0041057472616365530000000361626307617474656d70744900000003066e65737465644600000005026f6b7401"
    "0474616773410000000b5300000001614900000001020506636f72722d31077265706c696573053630303030056d"
    "73672d310000000065937d250d6f726465722e63726561746564056775657374076361707475726509636c757374"
    "65722d61ce";
constexpr std::string_view kGetOkBody = "0300010000000d7b226f72646572223a2034327dce";
constexpr std::string_view kChannelCloseOk = "0100010000000400140029ce";
constexpr std::string_view kConnectionCloseOk = "01000000000004000a0033ce";

using testing::unhex;

// Parses one whole frame.
Frame parse_frame(const std::string& bytes) {
  Frame f;
  auto used = FrameReader(131072).parse(bytes, f);
  EXPECT_TRUE(used.ok()) << used.status().to_string();
  EXPECT_EQ(used.ok() ? *used : 0, bytes.size());
  return f;
}

// Decodes a captured method frame as M and checks that encoding it gives the same frame.
template <typename M>
M decode_frame(std::string_view hex) {
  const std::string bytes = unhex(hex);
  const Frame f = parse_frame(bytes);
  EXPECT_EQ(f.type, FrameType::kMethod);
  Method m;
  Status s = decode_method(f.payload, m);
  EXPECT_TRUE(s.ok()) << s.to_string();
  EXPECT_TRUE(std::holds_alternative<M>(m)) << method_name(m);
  if (!std::holds_alternative<M>(m)) return M{};
  std::string again;
  append_method_frame(again, f.channel, std::get<M>(m));
  EXPECT_EQ(again, bytes) << M::kName;
  return std::get<M>(m);
}

BasicProperties published_properties() {
  BasicProperties p;
  p.content_type = "application/json";
  p.content_encoding = "utf-8";
  p.headers = FieldTable{{"trace", std::string("abc")},
                         {"attempt", int32_t{3}},
                         {"nested", FieldTable{{"ok", true}}},
                         {"tags", FieldArray{std::string("a"), int32_t{1}}}};
  p.delivery_mode = 2;
  p.priority = 5;
  p.correlation_id = "corr-1";
  p.reply_to = "replies";
  p.expiration = "60000";
  p.message_id = "msg-1";
  p.timestamp = 1704164645;
  p.type = "order.created";
  p.user_id = "guest";
  p.app_id = "capture";
  p.cluster_id = "cluster-a";
  return p;
}

TEST(PikaCapture, ClientStreamSplitsIntoItsFrames) {
  std::string stream;
  for (std::string_view hex :
       {kStartOk, kTuneOk, kConnectionOpen, kChannelOpen, kQueueDeclare, kBasicPublish,
        kPublishHeader, kPublishBody, kBasicGet, kBasicAck, kChannelClose, kConnectionClose}) {
    stream += unhex(hex);
  }
  std::string_view rest = stream;
  std::vector<FrameType> types;
  const FrameReader reader(131072);
  while (!rest.empty()) {
    Frame f;
    auto used = reader.parse(rest, f);
    ASSERT_TRUE(used.ok()) << used.status().to_string();
    ASSERT_GT(*used, 0u);
    types.push_back(f.type);
    rest.remove_prefix(*used);
  }
  EXPECT_EQ(types.size(), 12u);
  EXPECT_EQ(types[6], FrameType::kHeader);
  EXPECT_EQ(types[7], FrameType::kBody);
}

TEST(PikaCapture, ConnectionStartOk) {
  const auto m = decode_frame<ConnectionStartOk>(kStartOk);
  EXPECT_EQ(m.mechanism, "PLAIN");
  EXPECT_EQ(m.response, std::string("\0guest\0guest", 12));
  EXPECT_EQ(m.locale, "en_US");
  const FieldTable capabilities{{"authentication_failure_close", true},
                                {"basic.nack", true},
                                {"connection.blocked", true},
                                {"consumer_cancel_notify", true},
                                {"publisher_confirms", true}};
  EXPECT_EQ(m.client_properties,
            (FieldTable{{"product", std::string("Pika Python Client Library")},
                        {"platform", std::string("Python 3.11.2")},
                        {"capabilities", capabilities},
                        {"information", std::string("See http://pika.rtfd.org")},
                        {"version", std::string("1.2.0")}}));
}

TEST(PikaCapture, HandshakeMethods) {
  const auto tune_ok = decode_frame<ConnectionTuneOk>(kTuneOk);
  EXPECT_EQ(tune_ok.channel_max, 2047);
  EXPECT_EQ(tune_ok.frame_max, 131072u);
  EXPECT_EQ(tune_ok.heartbeat, 60);
  const auto open = decode_frame<ConnectionOpen>(kConnectionOpen);
  EXPECT_EQ(open.virtual_host, "/");
  EXPECT_EQ(open.reserved_1, "");
  EXPECT_TRUE(open.reserved_2);  // pika sets the old "insist" bit; it must survive re-encoding
  EXPECT_EQ(decode_frame<ChannelOpen>(kChannelOpen), ChannelOpen{});
}

TEST(PikaCapture, QueueDeclareWithArguments) {
  QueueDeclare expected;
  expected.queue = "burrow-capture";
  expected.exclusive = true;
  expected.arguments = FieldTable{{"x-message-ttl", int32_t{60000}},
                                  {"x-max-length", int32_t{10}},
                                  {"x-queue-type", std::string("classic")},
                                  {"x-dead-letter-exchange", std::string("")}};
  EXPECT_EQ(decode_frame<QueueDeclare>(kQueueDeclare), expected);
}

TEST(PikaCapture, BasicPublishWithAllPropertiesAndBody) {
  BasicPublish publish;
  publish.routing_key = "burrow-capture";
  EXPECT_EQ(decode_frame<BasicPublish>(kBasicPublish), publish);

  const std::string header_frame = unhex(kPublishHeader);
  const Frame header = parse_frame(header_frame);
  ASSERT_EQ(header.type, FrameType::kHeader);
  EXPECT_EQ(header.channel, 1);
  ContentHeader h;
  ASSERT_TRUE(decode_content_header(header.payload, h).ok());
  EXPECT_EQ(h.class_id, 60);
  EXPECT_EQ(h.body_size, 13u);
  EXPECT_EQ(h.properties, published_properties());

  std::string encoded;
  Writer w(encoded);
  encode_properties(h.properties, w);
  EXPECT_EQ(encoded, h.raw_properties);

  const std::string body_frame = unhex(kPublishBody);
  const Frame body = parse_frame(body_frame);
  EXPECT_EQ(body.payload, "{\"order\": 42}");
  std::string frames;
  append_content_frames(frames, 1, 60, encoded, body.payload, 131072);
  EXPECT_EQ(frames, header_frame + body_frame);
}

TEST(PikaCapture, BasicGetAckAndClose) {
  BasicGet get;
  get.queue = "burrow-capture";
  EXPECT_EQ(decode_frame<BasicGet>(kBasicGet), get);
  BasicAck ack;
  ack.delivery_tag = 1;
  EXPECT_EQ(decode_frame<BasicAck>(kBasicAck), ack);
  ChannelClose channel_close;
  channel_close.reply_text = "Normal shutdown";
  EXPECT_EQ(decode_frame<ChannelClose>(kChannelClose), channel_close);
  ConnectionClose connection_close;
  connection_close.reply_code = kReplySuccess;
  connection_close.reply_text = "Normal shutdown";
  EXPECT_EQ(decode_frame<ConnectionClose>(kConnectionClose), connection_close);
}

TEST(PikaCapture, RabbitMqConnectionStart) {
  const auto start = decode_frame<ConnectionStart>(kConnectionStart);
  EXPECT_EQ(start.version_major, 0);
  EXPECT_EQ(start.version_minor, 9);
  EXPECT_EQ(start.mechanisms, "AMQPLAIN PLAIN");
  EXPECT_EQ(start.locales, "en_US");
  const FieldValue* capabilities = start.server_properties.find("capabilities");
  ASSERT_NE(capabilities, nullptr);
  EXPECT_EQ(*capabilities, FieldValue(FieldTable{{"publisher_confirms", true},
                                                 {"exchange_exchange_bindings", true},
                                                 {"basic.nack", true},
                                                 {"consumer_cancel_notify", true},
                                                 {"connection.blocked", true},
                                                 {"consumer_priorities", true},
                                                 {"authentication_failure_close", true},
                                                 {"per_consumer_qos", true},
                                                 {"direct_reply_to", true}}));
  EXPECT_EQ(*start.server_properties.find("version"), FieldValue("3.10.8"));
  EXPECT_EQ(*start.server_properties.find("product"), FieldValue("RabbitMQ"));
}

TEST(PikaCapture, RabbitMqReplies) {
  ConnectionTune tune;
  tune.channel_max = 2047;
  tune.frame_max = 131072;
  tune.heartbeat = 60;
  EXPECT_EQ(decode_frame<ConnectionTune>(kTune), tune);
  EXPECT_EQ(decode_frame<ConnectionOpenOk>(kConnectionOpenOk), ConnectionOpenOk{});
  EXPECT_EQ(decode_frame<ChannelOpenOk>(kChannelOpenOk), ChannelOpenOk{});
  QueueDeclareOk declare_ok;
  declare_ok.queue = "burrow-capture";
  EXPECT_EQ(decode_frame<QueueDeclareOk>(kQueueDeclareOk), declare_ok);
  decode_frame<ChannelCloseOk>(kChannelCloseOk);
  decode_frame<ConnectionCloseOk>(kConnectionCloseOk);
}

TEST(PikaCapture, RabbitMqGetOkForwardsThePublishedProperties) {
  BasicGetOk get_ok;
  get_ok.delivery_tag = 1;
  get_ok.routing_key = "burrow-capture";
  EXPECT_EQ(decode_frame<BasicGetOk>(kBasicGetOk), get_ok);
  // RabbitMQ forwards the publisher's property bytes unchanged (properties_bin).
  EXPECT_EQ(kGetOkHeader, kPublishHeader);
  EXPECT_EQ(kGetOkBody, kPublishBody);
}

}  // namespace
}  // namespace burrow::protocol
