// print_table and the cell formatting it relies on.
#include "tools/burrowctl/table.h"

#include <algorithm>
#include <ctime>

namespace burrow::ctl {

namespace {

// Display width, counting UTF-8 code points rather than bytes.
size_t width(const std::string& text) {
  return std::count_if(text.begin(), text.end(),
                       [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; });
}

std::string one_line(const std::string& text) {
  std::string out = text;
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) c = ' ';
  }
  return out;
}

}  // namespace

const nlohmann::json* find_field(const nlohmann::json& row, const std::string& pointer) {
  const nlohmann::json* at = &row;
  size_t pos = 0;
  while (pos < pointer.size()) {
    size_t start = pos + 1;  // skip '/'
    size_t end = pointer.find('/', start);
    if (end == std::string::npos) end = pointer.size();
    if (!at->is_object()) return nullptr;
    auto it = at->find(pointer.substr(start, end - start));
    if (it == at->end()) return nullptr;
    at = &*it;
    pos = end;
  }
  return at;
}

std::string cell_text(const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::null:
      return "";
    case nlohmann::json::value_t::string:
      return one_line(value.get_ref<const std::string&>());
    case nlohmann::json::value_t::array: {
      bool scalars = std::all_of(value.begin(), value.end(),
                                 [](const nlohmann::json& v) { return v.is_primitive(); });
      if (!scalars) break;
      std::string out;
      for (const auto& v : value) {
        if (!out.empty()) out += ",";
        out += cell_text(v);
      }
      return out;
    }
    default:
      break;
  }
  return one_line(value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

std::string format_epoch_ms(const nlohmann::json& value) {
  if (!value.is_number_integer()) return cell_text(value);
  std::time_t seconds = static_cast<std::time_t>(value.get<int64_t>() / 1000);
  std::tm tm{};
  if (gmtime_r(&seconds, &tm) == nullptr) return cell_text(value);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

void print_table(std::ostream& out, const nlohmann::json& rows,
                 const std::vector<Column>& columns) {
  std::vector<std::vector<std::string>> cells;
  std::vector<size_t> widths;
  std::vector<bool> numeric(columns.size(), true);
  std::vector<bool> any(columns.size(), false);
  for (const auto& column : columns) widths.push_back(width(column.header));
  if (rows.is_array()) {
    for (const auto& row : rows) {
      std::vector<std::string> line;
      for (size_t c = 0; c < columns.size(); ++c) {
        const nlohmann::json* field = find_field(row, columns[c].pointer);
        std::string text;
        if (field != nullptr && !field->is_null()) {
          text = columns[c].format ? columns[c].format(*field) : cell_text(*field);
          any[c] = true;
          if (!field->is_number()) numeric[c] = false;
        }
        widths[c] = std::max(widths[c], width(text));
        line.push_back(std::move(text));
      }
      cells.push_back(std::move(line));
    }
  }
  auto print_line = [&](const std::vector<std::string>& line) {
    std::string text;
    for (size_t c = 0; c < columns.size(); ++c) {
      size_t pad = widths[c] - width(line[c]);
      bool right = numeric[c] && any[c];  // numbers and their header flush right
      bool last = c + 1 == columns.size();
      if (right) text.append(pad, ' ');
      text += line[c];
      if (!right && !last) text.append(pad, ' ');
      if (!last) text += "  ";
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    out << text << "\n";
  };
  std::vector<std::string> headers;
  for (const auto& column : columns) headers.push_back(column.header);
  print_line(headers);
  for (const auto& line : cells) print_line(line);
}

}  // namespace burrow::ctl
