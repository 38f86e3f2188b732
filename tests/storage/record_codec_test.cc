// Records: every AMQP field type round-trips exactly (type kept: 'x' bytes vs 'S' strings,
// int8 vs int64, ...), properties, message value framing, and bad records as kCorruption.
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include <gtest/gtest.h>

#include "storage/record_codec.h"

namespace burrow::storage {
namespace {

// Through protobuf bytes and back, as the store does.
::burrow::FieldTable round_trip(const ::burrow::FieldTable& table) {
  FieldTable record;
  encode_field_table(table, record);
  FieldTable parsed;
  EXPECT_TRUE(parse_record(serialize_record(record), parsed).ok());
  ::burrow::FieldTable out;
  Status s = decode_field_table(parsed, out);
  EXPECT_TRUE(s.ok()) << s.to_string();
  return out;
}

TEST(RecordCodec, EveryFieldTypeRoundTripsWithItsType) {
  ::burrow::FieldTable table{
      {"bool", true},
      {"int8", int8_t{-128}},
      {"uint8", uint8_t{255}},
      {"int16", int16_t{-32768}},
      {"uint16", uint16_t{65535}},
      {"int32", std::numeric_limits<int32_t>::min()},
      {"uint32", std::numeric_limits<uint32_t>::max()},
      {"int64", std::numeric_limits<int64_t>::min()},
      {"float", 1.5f},
      {"double", -2.25},
      {"decimal", ::burrow::Decimal{2, 12345}},
      {"string", std::string("S long string \xff\x00 not utf-8", 26)},
      {"bytes", ::burrow::Bytes{std::string("x bytes\0", 8)}},
      {"array", ::burrow::FieldArray{int8_t{1}, std::string("two"), ::burrow::Void{}}},
      {"timestamp", ::burrow::Timestamp{1700000000}},
      {"table", ::burrow::FieldTable{{"inner", int64_t{7}}}},
      {"void", ::burrow::Void{}},
  };
  ::burrow::FieldTable out = round_trip(table);
  EXPECT_EQ(out, table);
  ASSERT_EQ(out.size(), table.size());
  for (size_t i = 0; i < table.size(); ++i) {
    EXPECT_EQ(out.entries()[i].value.type(), table.entries()[i].value.type())
        << table.entries()[i].name;
  }
}

TEST(RecordCodec, BytesAndStringsStayDistinct) {
  ::burrow::FieldTable table{{"a", std::string("same")}, {"b", ::burrow::Bytes{"same"}}};
  ::burrow::FieldTable out = round_trip(table);
  EXPECT_TRUE(out.find("a")->is<std::string>());
  EXPECT_TRUE(out.find("b")->is<::burrow::Bytes>());
}

TEST(RecordCodec, IntegerWidthsStayDistinct) {
  ::burrow::FieldTable table{{"x", int8_t{5}},  {"x", int16_t{5}}, {"x", int32_t{5}},
                             {"x", int64_t{5}}, {"x", uint8_t{5}}, {"x", uint16_t{5}},
                             {"x", uint32_t{5}}};
  EXPECT_EQ(round_trip(table), table);  // duplicates and order kept too
}

TEST(RecordCodec, FloatBitsAreKept) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  ::burrow::FieldTable table{{"nan", nan}, {"neg0", -0.0}, {"inf", HUGE_VAL}};
  ::burrow::FieldTable out = round_trip(table);
  float got = *out.find("nan")->get_if<float>();
  EXPECT_EQ(std::memcmp(&got, &nan, sizeof got), 0);
  EXPECT_TRUE(std::signbit(*out.find("neg0")->get_if<double>()));
  EXPECT_TRUE(std::isinf(*out.find("inf")->get_if<double>()));
}

TEST(RecordCodec, TablesNestedAsDeepAsTheCodecAllowsRoundTrip) {
  ::burrow::FieldTable table{{"leaf", int32_t{1}}};
  for (int depth = 0; depth < 64; ++depth) {
    if (depth % 2 == 0) {
      table = ::burrow::FieldTable{{"t", std::move(table)}};
    } else {
      table =
          ::burrow::FieldTable{{"a", ::burrow::FieldArray{::burrow::FieldValue(std::move(table))}}};
    }
  }
  EXPECT_EQ(round_trip(table), table);
}

TEST(RecordCodec, EmptyTableRoundTrips) { EXPECT_TRUE(round_trip(::burrow::FieldTable{}).empty()); }

TEST(RecordCodec, ValuesOutOfTheirTypesRangeAreCorruption) {
  FieldValue record;
  record.set_int8_value(300);
  ::burrow::FieldValue out;
  EXPECT_EQ(decode_field_value(record, out).code(), StatusCode::kCorruption);
  record.set_uint16_value(70000);
  EXPECT_EQ(decode_field_value(record, out).code(), StatusCode::kCorruption);
  record.mutable_decimal_value()->set_scale(256);
  EXPECT_EQ(decode_field_value(record, out).code(), StatusCode::kCorruption);
  FieldValue untyped;
  EXPECT_EQ(decode_field_value(untyped, out).code(), StatusCode::kCorruption);
}

TEST(RecordCodec, PropertiesRoundTripSetAndUnset) {
  ::burrow::BasicProperties all;
  all.content_type = "application/json";
  all.content_encoding = "gzip";
  all.headers = ::burrow::FieldTable{{"x-delivery-count", int64_t{3}}};
  all.delivery_mode = 2;
  all.priority = 9;
  all.correlation_id = "c";
  all.reply_to = "amq.rabbitmq.reply-to";
  all.expiration = "60000";
  all.message_id = "m-1";
  all.timestamp = 1700000000;
  all.type = "t";
  all.user_id = "guest";
  all.app_id = "app";
  all.cluster_id = "";
  for (const ::burrow::BasicProperties& p : {all, ::burrow::BasicProperties{}}) {
    Properties record;
    encode_properties(p, record);
    Properties parsed;
    ASSERT_TRUE(parse_record(serialize_record(record), parsed).ok());
    ::burrow::BasicProperties out;
    ASSERT_TRUE(decode_properties(parsed, out).ok());
    EXPECT_EQ(out, p);
  }
  // An empty string is a set property, distinct from an unset one.
  Properties record;
  encode_properties(all, record);
  EXPECT_TRUE(record.has_cluster_id());
}

TEST(RecordCodec, MessageValueKeepsTheBodyAfterTheRecord) {
  MessageRecord record;
  record.set_exchange("ex");
  record.set_routing_key("rk");
  record.set_publish_time_ms(42);
  record.set_expiry_ms(100);
  record.set_delivery_count(2);
  record.set_redelivered(true);
  const std::string body(100000, 'b');
  const std::string value = encode_message_value(record, body);
  EXPECT_TRUE(value.ends_with(body));

  MessageRecord read;
  std::string_view read_body;
  ASSERT_TRUE(decode_message_value(value, read, read_body).ok());
  EXPECT_EQ(read_body, body);
  EXPECT_EQ(read_body.data(), value.data() + (value.size() - body.size()));  // no copy
  EXPECT_EQ(read.exchange(), "ex");
  EXPECT_TRUE(read.has_expiry_ms());
  EXPECT_EQ(read.delivery_count(), 2u);
  EXPECT_TRUE(read.redelivered());
  EXPECT_EQ(read.body_size(), body.size());
}

TEST(RecordCodec, EmptyBodyAndNoExpiry) {
  MessageRecord record;
  const std::string value = encode_message_value(record, "");
  MessageRecord read;
  std::string_view body = "unchanged";
  ASSERT_TRUE(decode_message_value(value, read, body).ok());
  EXPECT_TRUE(body.empty());
  EXPECT_FALSE(read.has_expiry_ms());
}

TEST(RecordCodec, DamagedMessageValuesAreCorruption) {
  MessageRecord record;
  record.set_exchange("ex");
  const std::string value = encode_message_value(record, "body");
  MessageRecord read;
  std::string_view body;
  EXPECT_EQ(decode_message_value("", read, body).code(), StatusCode::kCorruption);
  EXPECT_EQ(decode_message_value("\xff\xff\xff\xff\xff\xff", read, body).code(),
            StatusCode::kCorruption);
  EXPECT_EQ(decode_message_value(value.substr(0, 3), read, body).code(), StatusCode::kCorruption);
  EXPECT_EQ(decode_message_value(value.substr(0, value.size() - 1), read, body).code(),
            StatusCode::kCorruption);  // body shorter than the record says
  EXPECT_EQ(decode_message_value(value + "x", read, body).code(), StatusCode::kCorruption);
}

TEST(RecordCodec, UnparsableRecordIsCorruptionNamingItsType) {
  QueueRecord record;
  Status s = parse_record("\xff\xff\xff", record);
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_NE(s.message().find("burrow.storage.QueueRecord"), std::string::npos) << s.message();
}

TEST(RecordCodec, BindingArgumentsBytesAreDeterministic) {
  EXPECT_EQ(binding_arguments_bytes({}), "");
  ::burrow::FieldTable args{{"x-match", "all"}, {"format", "pdf"}};
  EXPECT_EQ(binding_arguments_bytes(args), binding_arguments_bytes(args));
  EXPECT_NE(binding_arguments_bytes(args), binding_arguments_bytes({{"x-match", "any"}}));
}

}  // namespace
}  // namespace burrow::storage
