// Tests for FieldTable (ordered entries, find/set/erase) and FieldValue (type codes,
// numeric and string views, rendering).
#include <burrow/field_table.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace burrow {
namespace {

std::vector<std::string> names(const FieldTable& t) {
  std::vector<std::string> out;
  for (const auto& e : t.entries()) out.push_back(e.name);
  return out;
}

TEST(FieldTable, StartsEmpty) {
  FieldTable t;
  EXPECT_TRUE(t.empty());
  EXPECT_EQ(t.size(), 0u);
  EXPECT_EQ(t.find("a"), nullptr);
  EXPECT_FALSE(t.contains("a"));
}

TEST(FieldTable, InitializerListKeepsOrder) {
  FieldTable t{{"z", 1}, {"a", "two"}, {"m", true}};
  EXPECT_EQ(names(t), (std::vector<std::string>{"z", "a", "m"}));
  EXPECT_EQ(t.size(), 3u);
}

TEST(FieldTable, FindReturnsTheFirstEntryWithTheName) {
  FieldTable t{{"a", 1}, {"b", 2}, {"a", 3}};
  const FieldValue* v = t.find("a");
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(*v, FieldValue(1));
  EXPECT_TRUE(t.contains("b"));
  EXPECT_FALSE(t.contains("A"));  // names are case-sensitive
}

TEST(FieldTable, FindAllowsMutation) {
  FieldTable t{{"a", 1}};
  *t.find("a") = FieldValue("x");
  EXPECT_EQ(*t.find("a"), FieldValue("x"));
}

TEST(FieldTable, SetAppendsANewName) {
  FieldTable t{{"a", 1}};
  t.set("b", 2);
  EXPECT_EQ(names(t), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(*t.find("b"), FieldValue(2));
}

TEST(FieldTable, SetReplacesInPlaceKeepingOrder) {
  FieldTable t{{"a", 1}, {"b", 2}, {"c", 3}};
  t.set("b", "replaced");
  EXPECT_EQ(names(t), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(*t.find("b"), FieldValue("replaced"));
  EXPECT_EQ(t.size(), 3u);
}

TEST(FieldTable, EraseRemovesEveryEntryWithTheName) {
  FieldTable t{{"a", 1}, {"b", 2}, {"a", 3}, {"c", 4}};
  EXPECT_TRUE(t.erase("a"));
  EXPECT_EQ(names(t), (std::vector<std::string>{"b", "c"}));
  EXPECT_FALSE(t.erase("a"));
  EXPECT_FALSE(t.erase("missing"));
}

TEST(FieldTable, EqualityIsOrderSensitive) {
  FieldTable ab{{"a", 1}, {"b", 2}};
  FieldTable ab2{{"a", 1}, {"b", 2}};
  FieldTable ba{{"b", 2}, {"a", 1}};
  EXPECT_EQ(ab, ab2);
  EXPECT_FALSE(ab == ba);
}

TEST(FieldTable, EqualityComparesValueTypes) {
  FieldTable i32{{"n", int32_t{1}}};
  FieldTable i64{{"n", int64_t{1}}};
  EXPECT_FALSE(i32 == i64);
}

TEST(FieldTable, NestsTablesAndArrays) {
  FieldTable inner{{"x", 1}};
  FieldTable t{{"t", inner}, {"a", FieldArray{FieldValue(1), FieldValue("s")}}};
  ASSERT_NE(t.find("t")->get_if<FieldTable>(), nullptr);
  EXPECT_EQ(*t.find("t")->get_if<FieldTable>(), inner);
  ASSERT_NE(t.find("a")->get_if<FieldArray>(), nullptr);
  EXPECT_EQ(t.find("a")->get_if<FieldArray>()->size(), 2u);
}

// ---- FieldValue --------------------------------------------------------------------------

struct TypeRow {
  FieldValue value;
  FieldValue::Type type;
  char code;
};

TEST(FieldValue, EveryAlternativeHasItsWireTypeCode) {
  const std::vector<TypeRow> rows = {
      {FieldValue(true), FieldValue::Type::kBool, 't'},
      {FieldValue(int8_t{-1}), FieldValue::Type::kInt8, 'b'},
      {FieldValue(uint8_t{1}), FieldValue::Type::kUInt8, 'B'},
      {FieldValue(int16_t{-1}), FieldValue::Type::kInt16, 's'},
      {FieldValue(uint16_t{1}), FieldValue::Type::kUInt16, 'u'},
      {FieldValue(int32_t{-1}), FieldValue::Type::kInt32, 'I'},
      {FieldValue(uint32_t{1}), FieldValue::Type::kUInt32, 'i'},
      {FieldValue(int64_t{-1}), FieldValue::Type::kInt64, 'l'},
      {FieldValue(1.5f), FieldValue::Type::kFloat, 'f'},
      {FieldValue(1.5), FieldValue::Type::kDouble, 'd'},
      {FieldValue(Decimal{2, 150}), FieldValue::Type::kDecimal, 'D'},
      {FieldValue(std::string("s")), FieldValue::Type::kString, 'S'},
      {FieldValue(Bytes{"b"}), FieldValue::Type::kBytes, 'x'},
      {FieldValue(FieldArray{}), FieldValue::Type::kArray, 'A'},
      {FieldValue(Timestamp{1}), FieldValue::Type::kTimestamp, 'T'},
      {FieldValue(FieldTable{}), FieldValue::Type::kTable, 'F'},
      {FieldValue(Void{}), FieldValue::Type::kVoid, 'V'},
  };
  ASSERT_EQ(rows.size(), std::variant_size_v<FieldValue::Variant>);
  for (const TypeRow& row : rows) {
    EXPECT_EQ(row.value.type(), row.type) << row.code;
    EXPECT_EQ(row.value.type_code(), row.code);
    EXPECT_EQ(field_type_code(row.type), row.code);
  }
}

TEST(FieldValue, DefaultIsVoid) {
  FieldValue v;
  EXPECT_TRUE(v.is<Void>());
  EXPECT_EQ(v.type_code(), 'V');
}

TEST(FieldValue, CStringBecomesALongString) {
  FieldValue v("text");
  EXPECT_TRUE(v.is<std::string>());
  EXPECT_EQ(v.type_code(), 'S');
  EXPECT_EQ(*v.get_if<std::string>(), "text");
}

TEST(FieldValue, AsIntegerCoversEveryIntegerType) {
  EXPECT_EQ(FieldValue(int8_t{-128}).as_integer(), -128);
  EXPECT_EQ(FieldValue(uint8_t{255}).as_integer(), 255);
  EXPECT_EQ(FieldValue(int16_t{-32768}).as_integer(), -32768);
  EXPECT_EQ(FieldValue(uint16_t{65535}).as_integer(), 65535);
  EXPECT_EQ(FieldValue(int32_t{-7}).as_integer(), -7);
  EXPECT_EQ(FieldValue(std::numeric_limits<uint32_t>::max()).as_integer(), 4294967295LL);
  EXPECT_EQ(FieldValue(std::numeric_limits<int64_t>::min()).as_integer(),
            std::numeric_limits<int64_t>::min());
}

TEST(FieldValue, AsIntegerRejectsNonIntegers) {
  EXPECT_EQ(FieldValue(true).as_integer(), std::nullopt);
  EXPECT_EQ(FieldValue(1.0).as_integer(), std::nullopt);
  EXPECT_EQ(FieldValue(1.0f).as_integer(), std::nullopt);
  EXPECT_EQ(FieldValue("1").as_integer(), std::nullopt);
  EXPECT_EQ(FieldValue(Timestamp{1}).as_integer(), std::nullopt);
  EXPECT_EQ(FieldValue(Decimal{0, 1}).as_integer(), std::nullopt);
  EXPECT_EQ(FieldValue().as_integer(), std::nullopt);
}

TEST(FieldValue, AsNumberCoversIntegersAndFloats) {
  EXPECT_EQ(FieldValue(int32_t{3}).as_number(), 3.0);
  EXPECT_EQ(FieldValue(uint8_t{3}).as_number(), 3.0);
  EXPECT_EQ(FieldValue(2.5f).as_number(), 2.5);
  EXPECT_EQ(FieldValue(2.5).as_number(), 2.5);
  EXPECT_EQ(FieldValue(true).as_number(), std::nullopt);
  EXPECT_EQ(FieldValue("2.5").as_number(), std::nullopt);
  EXPECT_EQ(FieldValue(Bytes{"2"}).as_number(), std::nullopt);
}

TEST(FieldValue, AsStringCoversStringsAndBytes) {
  ASSERT_NE(FieldValue("s").as_string(), nullptr);
  EXPECT_EQ(*FieldValue("s").as_string(), "s");
  FieldValue bytes(Bytes{std::string("a\0b", 3)});
  ASSERT_NE(bytes.as_string(), nullptr);
  EXPECT_EQ(*bytes.as_string(), std::string("a\0b", 3));
  EXPECT_EQ(FieldValue(1).as_string(), nullptr);
  EXPECT_EQ(FieldValue().as_string(), nullptr);
}

TEST(FieldValue, EqualityIsExactOnTypeAndValue) {
  EXPECT_EQ(FieldValue(int32_t{1}), FieldValue(int32_t{1}));
  EXPECT_FALSE(FieldValue(int32_t{1}) == FieldValue(int64_t{1}));
  EXPECT_FALSE(FieldValue(int32_t{1}) == FieldValue(1.0));
  EXPECT_FALSE(FieldValue("a") == FieldValue(Bytes{"a"}));
  EXPECT_EQ(FieldValue(Void{}), FieldValue());
}

TEST(FieldValue, RendersReadably) {
  EXPECT_EQ(to_string(FieldValue(true)), "true");
  EXPECT_EQ(to_string(FieldValue(int8_t{-3})), "-3");
  EXPECT_EQ(to_string(FieldValue(uint8_t{200})), "200");
  EXPECT_EQ(to_string(FieldValue(int32_t{42})), "42");
  EXPECT_EQ(to_string(FieldValue("abc")), "abc");
  EXPECT_EQ(to_string(FieldValue()), "undefined");
  EXPECT_EQ(to_string(FieldValue(FieldArray{FieldValue(1), FieldValue("x")})), "[1,x]");
  EXPECT_EQ(to_string(FieldTable{{"a", 1}, {"b", "c"}}), "[{a,1},{b,c}]");
}

}  // namespace
}  // namespace burrow
