// A small model of Erlang's io_lib_pretty (OTP 25, the runtime of Debian's RabbitMQ 3.10.8) for
// the only terms RabbitMQ prints into frame errors: binaries, atoms, integers and tagged tuples
// of integers. Column arithmetic follows io_lib_pretty:print/9, pp/8, pp_tag_tuple/8, pp_tail/10
// and pp_binary/7; the tests compare it with texts produced by a real `erl`.
#include "protocol/erlang_text.h"

#include <charconv>
#include <initializer_list>
#include <vector>

namespace burrow::protocol {
namespace {

constexpr int kLineLength = 80;  // io_lib_format's default line length for ~p

// An output string that knows its column (characters since the last newline), as
// io_lib_format:indentation/2 computes it for the `~p` directive that follows.
class Out {
 public:
  void append(std::string_view s) {
    text_.append(s);
    size_t nl = s.rfind('\n');
    col_ = nl == std::string_view::npos ? col_ + static_cast<int>(s.size())
                                        : static_cast<int>(s.size() - nl - 1);
  }
  void append_spaces(int n) { append(std::string(static_cast<size_t>(n), ' ')); }
  int col() const { return col_; }
  std::string take() { return std::move(text_); }

 private:
  std::string text_;
  int col_ = 0;
};

std::string decimal(int64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, end);
}

// io_lib_pretty:printable_latin1_list/2.
bool printable_latin1(uint8_t c) {
  return (c >= 32 && c <= 126) || c >= 160 || c == '\n' || c == '\r' || c == '\t' || c == '\v' ||
         c == '\b' || c == '\f' || c == 27;
}

// io_lib:write_string(Bytes, $") for bytes that passed printable_latin1.
std::string write_string(std::string_view bytes) {
  std::string s = "\"";
  for (char ch : bytes) {
    switch (ch) {
      case '"':
        s += "\\\"";
        break;
      case '\\':
        s += "\\\\";
        break;
      case '\n':
        s += "\\n";
        break;
      case '\r':
        s += "\\r";
        break;
      case '\t':
        s += "\\t";
        break;
      case '\v':
        s += "\\v";
        break;
      case '\b':
        s += "\\b";
        break;
      case '\f':
        s += "\\f";
        break;
      case 27:
        s += "\\e";
        break;
      default:
        s += ch;  // printable ASCII, or Latin-1 160-255 copied raw
    }
  }
  s += '"';
  return s;
}

// `~p` of a binary at the current column.
void print_binary(Out& out, std::string_view bin) {
  if (bin.empty()) return out.append("<<>>");
  bool printable = true;
  for (char c : bin) printable = printable && printable_latin1(static_cast<uint8_t>(c));
  if (printable) {  // a string is one leaf: never broken
    out.append("<<");
    out.append(write_string(bin));
    return out.append(">>");
  }
  std::vector<std::string> elems;
  int len = 4 + static_cast<int>(bin.size()) - 1;
  for (char c : bin) {
    elems.push_back(decimal(static_cast<uint8_t>(c)));
    len += static_cast<int>(elems.back().size());
  }
  const int col = out.col() + 1;  // io_lib_pretty columns are 1-based
  if (len < kLineLength - col) {
    out.append("<<");
    for (size_t i = 0; i < elems.size(); ++i) {
      if (i) out.append(",");
      out.append(elems[i]);
    }
    return out.append(">>");
  }
  // pp_binary/7: N = max(8, min(Ll - (Col + 2), M - 4 - W) - LD) with M = Len, W = LD = 0.
  const int indent = col - 1 + 2;
  const int n0 = std::max(8, std::min(kLineLength - (col + 2), len - 4));
  int n = n0;
  out.append("<<");
  for (size_t i = 0; i + 1 < elems.size(); ++i) {
    int elen = static_cast<int>(elems[i].size()) + 1;
    if (n - elen < 0) {
      out.append("\n");
      out.append_spaces(indent);
      n = n0 - elen;
    } else {
      n -= elen;
    }
    out.append(elems[i]);
    out.append(",");
  }
  if (static_cast<int>(elems.back().size()) > n) {
    out.append("\n");
    out.append_spaces(indent);
  }
  out.append(elems.back());
  out.append(">>");
}

// `~p` of {tag, e1, ..., ek} with integer elements, at the current column.
void print_tagged_tuple(Out& out, std::string_view tag, std::initializer_list<int64_t> values) {
  std::vector<std::string> elems;
  const int tlen = static_cast<int>(tag.size());
  int len = 2 + tlen;
  for (int64_t v : values) {
    elems.push_back(decimal(v));
    len += 1 + static_cast<int>(elems.back().size());
  }
  const int col = out.col() + 1;
  const int m = len;  // line_max_chars -1 means "the term's own length" (max_cs/2)
  if (len < kLineLength - col) {
    out.append("{");
    out.append(tag);
    for (const auto& e : elems) {
      out.append(",");
      out.append(e);
    }
    return out.append("}");
  }
  // print/9: TInd = while_fail([-1, 4], cind...), 1). With integer leaves cind_tag_tuple/7 only
  // fails on its column tests.
  const int tag_ind = tlen + 2;
  const int tcol = col + tag_ind;
  int tind = 1;
  if (m + tcol < kLineLength || tcol < kLineLength / 2) {
    tind = -1;
  } else if (tag_ind > 4 && (m + col + 4 <= kLineLength || col + 4 <= kLineLength / 2)) {
    tind = 4;
  }
  // pp_tag_tuple/8 with Ind = indent(Col) (Col - 1 spaces), LD = 0, W = 1.
  int ind = col - 1;
  int col0;  // where continuation lines start
  int cur;   // column of the next element
  int w;     // characters of this term on the current line
  out.append("{");
  out.append(tag);
  size_t i = 0;
  if (tind > 0 && tag_ind > tind) {
    ind += tind;
    col0 = col + tind;
    cur = tcol;
    w = 1 + tlen;
  } else {
    // pp_list/9: the first element goes right after "tag," (pp_element/8).
    ind += tag_ind;
    col0 = tcol;
    w = 1 + tlen + 1;
    out.append(",");
    const int ld = elems.size() > 1 ? 0 : 1;
    const int elen = static_cast<int>(elems[0].size());
    const int we = (elen < kLineLength - col0 - ld && elen + w + ld <= m) ? elen : kLineLength;
    out.append(elems[0]);
    cur = col0 + we;
    w += we;
    i = 1;
  }
  // pp_tail/10.
  for (; i < elems.size(); ++i) {
    const int ld1 = i + 1 < elems.size() ? 0 : 1;
    const int len_e = static_cast<int>(elems[i].size());
    const int elen = 1 + len_e;
    const bool fits = ld1 == 0 ? (elen + 1 < kLineLength - cur && w + elen + 1 <= m)
                               : (elen < kLineLength - cur - ld1 && w + elen + ld1 <= m);
    if (fits) {
      out.append(",");
      out.append(elems[i]);
      cur += elen;
      w += elen;
    } else {
      const int we = (len_e < kLineLength - col0 - ld1 && len_e + ld1 <= m) ? len_e : kLineLength;
      out.append(",\n");
      out.append_spaces(ind);
      out.append(elems[i]);
      cur = col0 + we;
      w = we;
    }
  }
  out.append("}");
}

// "type ~p, ~s octets = ~p" - the part every frame error text starts with.
void print_frame_prefix(Out& out, uint8_t type, std::string_view payload) {
  out.append("type ");
  out.append(decimal(type));
  if (payload.size() <= 16) {
    out.append(", all octets = ");
  } else {
    out.append(", first 16 octets = ");
    payload = payload.substr(0, 16);
  }
  print_binary(out, payload);
}

}  // namespace

std::string frame_too_large_text(uint8_t type, uint32_t payload_size, uint32_t frame_max) {
  Out out;
  print_frame_prefix(out, type, {});
  out.append(": ");
  print_tagged_tuple(out, "frame_too_large", {payload_size, int64_t{frame_max} - 8});
  return out.take();
}

std::string invalid_frame_end_text(uint8_t type, std::string_view payload, uint8_t end_marker) {
  Out out;
  print_frame_prefix(out, type, payload);
  out.append(": ");
  print_tagged_tuple(out, "invalid_frame_end_marker", {end_marker});
  return out.take();
}

std::string unknown_frame_text(uint8_t type, std::string_view payload) {
  Out out;
  print_frame_prefix(out, type, payload);
  out.append(": unknown_frame");  // an atom is never broken
  return out.take();
}

std::string unexpected_frame_text(uint8_t type, std::string_view payload) {
  Out out;
  print_frame_prefix(out, type, payload);
  return out.take();
}

std::string cannot_decode_text(std::string_view args) {
  // `~w` never breaks lines. Stop once the text is longer than a reply text can be: RabbitMQ
  // cuts the reply at 252 bytes and appends "...", so the tail is never seen.
  constexpr size_t kCap = 256;
  std::string s = "cannot decode <<";
  for (size_t i = 0; i < args.size() && s.size() <= kCap; ++i) {
    if (i) s += ',';
    s += decimal(static_cast<uint8_t>(args[i]));
  }
  s += ">>";
  return s;
}

}  // namespace burrow::protocol
