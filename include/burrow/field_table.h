// AMQP 0-9-1 field tables and values, as RabbitMQ accepts them: the types behind message
// headers, queue and exchange arguments, and consumer arguments.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace burrow {

class FieldValue;
struct FieldEntry;

// 'D': value / 10^scale.
struct Decimal {
  uint8_t scale = 0;
  uint32_t value = 0;
  friend bool operator==(const Decimal&, const Decimal&) = default;
};

// 'T': seconds since the Unix epoch.
struct Timestamp {
  uint64_t seconds = 0;
  friend bool operator==(const Timestamp&, const Timestamp&) = default;
};

// 'x': a byte array (RabbitMQ's `binary`); distinct from a long string 'S'.
struct Bytes {
  std::string data;
  friend bool operator==(const Bytes&, const Bytes&) = default;
};

// 'V': no value. In a headers-exchange binding it means "the header is present".
struct Void {
  friend bool operator==(const Void&, const Void&) = default;
};

// 'A': an ordered list of values.
using FieldArray = std::vector<FieldValue>;

// 'F': an ordered list of (name, value) entries. Order is kept as received so tables travel
// through the broker byte for byte. Lookups are linear: tables are small.
// Not thread-safe for concurrent mutation; const access is thread-compatible.
class FieldTable {
 public:
  // The special members and empty()/size() are defined below FieldEntry: they need it
  // complete (clang instantiates std::vector's members eagerly where g++ does not).
  FieldTable();
  FieldTable(std::initializer_list<FieldEntry> entries);
  FieldTable(const FieldTable&);
  FieldTable(FieldTable&&) noexcept;
  FieldTable& operator=(const FieldTable&);
  FieldTable& operator=(FieldTable&&) noexcept;
  ~FieldTable();

  const std::vector<FieldEntry>& entries() const { return entries_; }
  std::vector<FieldEntry>& entries() { return entries_; }
  bool empty() const;
  size_t size() const;

  // The first entry named `name`, or nullptr.
  const FieldValue* find(std::string_view name) const;
  FieldValue* find(std::string_view name);
  bool contains(std::string_view name) const { return find(name) != nullptr; }
  // Replaces the first entry named `name`, or appends one.
  void set(std::string name, FieldValue value);
  // Removes every entry named `name`; returns whether one existed.
  bool erase(std::string_view name);

  friend bool operator==(const FieldTable& a, const FieldTable& b);

 private:
  std::vector<FieldEntry> entries_;
};

// One field value. The C++ type of the alternative is the AMQP type: the wire type letter
// (type_code()) follows from it. 'L' decodes to int64_t, as RabbitMQ decodes it.
class FieldValue {
 public:
  // The order of the alternatives is the Type enum's.
  using Variant =
      std::variant<bool, int8_t, uint8_t, int16_t, uint16_t, int32_t, uint32_t, int64_t, float,
                   double, Decimal, std::string, Bytes, FieldArray, Timestamp, FieldTable, Void>;
  enum class Type : uint8_t {
    kBool,       // 't'
    kInt8,       // 'b'
    kUInt8,      // 'B'
    kInt16,      // 's'
    kUInt16,     // 'u'
    kInt32,      // 'I'
    kUInt32,     // 'i'
    kInt64,      // 'l' (also decoded from 'L')
    kFloat,      // 'f'
    kDouble,     // 'd'
    kDecimal,    // 'D'
    kString,     // 'S'
    kBytes,      // 'x'
    kArray,      // 'A'
    kTimestamp,  // 'T'
    kTable,      // 'F'
    kVoid,       // 'V'
  };

  FieldValue() : v_(Void{}) {}
  template <typename T, typename = std::enable_if_t<std::is_constructible_v<Variant, T&&> &&
                                                    !std::is_same_v<std::decay_t<T>, FieldValue> &&
                                                    !std::is_same_v<std::decay_t<T>, const char*>>>
  FieldValue(T&& v) : v_(std::forward<T>(v)) {}      // NOLINT(google-explicit-constructor)
  FieldValue(const char* s) : v_(std::string(s)) {}  // NOLINT(google-explicit-constructor)

  Type type() const { return static_cast<Type>(v_.index()); }
  // The wire type letter written for this value ('S', 'I', ...).
  char type_code() const;
  const Variant& variant() const { return v_; }
  Variant& variant() { return v_; }

  template <typename T>
  const T* get_if() const {
    return std::get_if<T>(&v_);
  }
  template <typename T>
  T* get_if() {
    return std::get_if<T>(&v_);
  }
  template <typename T>
  bool is() const {
    return std::holds_alternative<T>(v_);
  }
  // The value as a signed integer when it is one of the integer types (b B s u I i l).
  std::optional<int64_t> as_integer() const;
  // The value as a number when it is an integer, float or double (RabbitMQ's `==` on numbers).
  std::optional<double> as_number() const;
  // A string or bytes value.
  const std::string* as_string() const;

  // Exact equality: same type and same value.
  friend bool operator==(const FieldValue& a, const FieldValue& b) { return a.v_ == b.v_; }

 private:
  Variant v_;
};

struct FieldEntry {
  std::string name;
  FieldValue value;
  friend bool operator==(const FieldEntry&, const FieldEntry&) = default;
};

inline FieldTable::FieldTable() = default;
inline FieldTable::FieldTable(const FieldTable&) = default;
inline FieldTable::FieldTable(FieldTable&&) noexcept = default;
inline FieldTable& FieldTable::operator=(const FieldTable&) = default;
inline FieldTable& FieldTable::operator=(FieldTable&&) noexcept = default;
inline FieldTable::~FieldTable() = default;
inline bool FieldTable::empty() const { return entries_.empty(); }
inline size_t FieldTable::size() const { return entries_.size(); }

// The type letter for a Type ('t', 'b', ...).
char field_type_code(FieldValue::Type type);

// A readable rendering for logs and error texts, close to how RabbitMQ prints values.
std::string to_string(const FieldValue& value);
std::string to_string(const FieldTable& table);

}  // namespace burrow
