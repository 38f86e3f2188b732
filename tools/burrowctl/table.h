// Plain-text tables for burrowctl's listings: one row per JSON object, columns picked by
// JSON pointer, a missing or null field printed empty.
#pragma once

#include <functional>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace burrow::ctl {

struct Column {
  std::string header;
  std::string pointer;  // path into the row, e.g. "/name" or "/queue/name"
  // Turns the (present, non-null) field into its cell; default: cell_text.
  std::function<std::string(const nlohmann::json&)> format = nullptr;
};

// The field at `pointer` ("/a/b"), or nullptr when any step is missing or not an object.
// Never throws, whatever the row holds.
const nlohmann::json* find_field(const nlohmann::json& row, const std::string& pointer);

// One line of text for a JSON value: strings as they are (control characters as spaces),
// numbers and booleans as JSON, null as "", arrays of scalars comma-separated, anything else
// as compact JSON.
std::string cell_text(const nlohmann::json& value);

// Milliseconds since the epoch as "YYYY-MM-DD HH:MM:SS" UTC; other values as cell_text.
std::string format_epoch_ms(const nlohmann::json& value);

// Prints a header line and one line per element of `rows` (which should be an array; any
// other value prints as no rows). Columns are separated by two spaces; a column whose cells
// are all numbers is right-aligned.
void print_table(std::ostream& out, const nlohmann::json& rows, const std::vector<Column>& columns);

}  // namespace burrow::ctl
