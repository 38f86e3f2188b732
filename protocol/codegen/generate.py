#!/usr/bin/env python3
"""Generates Burrow's AMQP 0-9-1 method structs and codecs from the spec.

Reads Debian's RabbitMQ-extended AMQP 0-9-1 XML (package amqp-specs) and the checked-in
supplement protocol/codegen/rabbitmq_extensions.xml, and writes:

  protocol/methods.h               one struct per method, the Method variant, reply codes
  protocol/methods.cc              per-method encode/decode bodies and the id -> index switch
  tests/protocol/method_samples.h  a non-default sample of every method for round-trip tests

The output is laid out the way clang-format (the repository's .clang-format) leaves it, so
formatting the generated files changes nothing. Standard library only.

Usage:
  python3 protocol/codegen/generate.py [--spec XML] [--extensions XML] [--out-dir DIR]

Without --out-dir the files go to their places in the repository; with it, all three are
written flat into DIR (tests/protocol/codegen_test.sh diffs them against the checked-in ones).
"""

import argparse
import os
import sys
import xml.etree.ElementTree as ET

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEFAULT_SPEC = "/usr/share/amqp/specs/0-9-1-rabbit/amqp0-9-1.stripped.extended.xml"
DEFAULT_EXTENSIONS = os.path.join(REPO, "protocol", "codegen", "rabbitmq_extensions.xml")
OUTPUTS = {
    "methods.h": "protocol/methods.h",
    "methods.cc": "protocol/methods.cc",
    "method_samples.h": "tests/protocol/method_samples.h",
}
COLUMNS = 100  # .clang-format ColumnLimit

CPP_TYPE = {
    "bit": "bool",
    "octet": "uint8_t",
    "short": "uint16_t",
    "long": "uint32_t",
    "longlong": "uint64_t",
    "timestamp": "uint64_t",
    "shortstr": "std::string",
    "longstr": "std::string",
    "table": "FieldTable",
}
DEFAULT_VALUE = {"bool": " = false", "uint8_t": " = 0", "uint16_t": " = 0",
                 "uint32_t": " = 0", "uint64_t": " = 0"}
ENCODE = {
    "octet": "w.put_u8({0});",
    "short": "w.put_u16({0});",
    "long": "w.put_u32({0});",
    "longlong": "w.put_u64({0});",
    "timestamp": "w.put_u64({0});",
    "shortstr": "w.put_shortstr({0});",
    "longstr": "w.put_longstr({0});",
    "table": "encode_table({0}, w);",
}
DECODE = {
    "octet": "a.u8(out.{0});",
    "short": "a.u16(out.{0});",
    "long": "a.u32(out.{0});",
    "longlong": "a.u64(out.{0});",
    "timestamp": "a.u64(out.{0});",
    "shortstr": "a.shortstr(out.{0});",
    "longstr": "a.longstr(out.{0});",
    "table": "a.table(out.{0});",
}
SAMPLE = {
    "octet": "sample_octet(v, {i})",
    "short": "sample_short(v, {i})",
    "long": "sample_long(v, {i})",
    "longlong": "sample_longlong(v, {i})",
    "timestamp": "sample_longlong(v, {i})",
    "shortstr": 'sample_shortstr(v, "{name}")',
    "longstr": 'sample_longstr(v, "{name}")',
    "table": 'sample_table(v, "{name}")',
}
CPP_KEYWORDS = {
    "alignas", "alignof", "and", "asm", "auto", "bool", "break", "case", "catch", "char",
    "class", "const", "constexpr", "continue", "default", "delete", "do", "double", "else",
    "enum", "explicit", "export", "extern", "false", "float", "for", "friend", "goto", "if",
    "inline", "int", "long", "mutable", "namespace", "new", "not", "operator", "or", "private",
    "protected", "public", "register", "return", "short", "signed", "sizeof", "static",
    "struct", "switch", "template", "this", "throw", "true", "try", "typedef", "typename",
    "union", "unsigned", "using", "virtual", "void", "volatile", "while", "xor",
}


class Field:
    def __init__(self, amqp_name, wire_type, reserved):
        self.amqp_name = amqp_name
        self.wire_type = wire_type
        self.reserved = reserved
        name = amqp_name.replace("-", "_")
        self.name = name + "_" if name in CPP_KEYWORDS else name


class Method:
    def __init__(self, cls, name, index, synchronous, content, fields):
        self.cls = cls
        self.name = name
        self.index = index
        self.synchronous = synchronous
        self.content = content
        self.fields = fields
        self.struct = pascal(cls.name) + pascal(name)
        self.full_name = cls.name + "." + name


class AmqpClass:
    def __init__(self, name, index):
        self.name = name
        self.index = index
        self.methods = []


def pascal(amqp_name):
    return "".join(part.capitalize() for part in amqp_name.split("-"))


def load(spec_path, extensions_path):
    """Returns (constants, classes) from the spec merged with the extensions."""
    constants = []
    domains = {}
    classes = []
    by_name = {}
    for path in (spec_path, extensions_path):
        root = ET.parse(path).getroot()
        for c in root.findall("constant"):
            constants.append((c.get("name"), int(c.get("value")), c.get("class")))
        for d in root.findall("domain"):
            domains[d.get("name")] = d.get("type")
        for c in root.findall("class"):
            cls = by_name.get(c.get("name"))
            if cls is None:
                cls = AmqpClass(c.get("name"), int(c.get("index")))
                by_name[cls.name] = cls
                classes.append(cls)
            for m in c.findall("method"):
                fields = []
                for f in m.findall("field"):
                    wire_type = f.get("type") or f.get("domain")
                    while wire_type in domains and domains[wire_type] != wire_type:
                        wire_type = domains[wire_type]
                    if wire_type not in CPP_TYPE:
                        sys.exit("unknown type %r of %s.%s" % (wire_type, cls.name, m.get("name")))
                    fields.append(Field(f.get("name"), wire_type, f.get("reserved") == "1"))
                cls.methods.append(Method(cls, m.get("name"), int(m.get("index")),
                                          m.get("synchronous") == "1", m.get("content") == "1",
                                          fields))
    for cls in classes:
        cls.methods.sort(key=lambda m: m.index)
    return constants, classes


# ---- layout helpers: emit what clang-format would leave unchanged ----------------------------

def wrap_comment(text, indent=""):
    """Greedy word wrap of a // comment at the column limit, as clang-format reflows it."""
    lines = []
    for paragraph in text.split("\n"):
        line = indent + "//"
        for word in paragraph.split(" "):
            if len(line) + 1 + len(word) > COLUMNS and line != indent + "//":
                lines.append(line)
                line = indent + "//"
            line += " " + word
        lines.append(line)
    return "\n".join(lines) + "\n"


def function(signature, body, indent="", merge=True):
    """A function definition; one line when clang-format would merge it into one (it does not
    after a `template <>` line)."""
    if merge and len(body) <= 1:
        one = indent + signature + " {" + (" " + body[0] + " " if body else "") + "}"
        if len(one) <= COLUMNS:
            return one + "\n"
    return indent + signature + " {\n" + "".join(indent + "  " + s + "\n" for s in body) + \
        indent + "}\n"


def bit_groups(fields):
    """Splits fields into runs: a field, or a list of consecutive bit fields (one octet)."""
    runs = []
    for f in fields:
        if f.wire_type == "bit":
            if runs and isinstance(runs[-1], list):
                runs[-1].append(f)
            else:
                runs.append([f])
        else:
            runs.append(f)
    return runs


def banner(spec_label, extensions_label):
    return wrap_comment("@generated by protocol/codegen/generate.py from %s and %s — do not edit"
                        % (spec_label, extensions_label))


# ---- methods.h -----------------------------------------------------------------------------

def constant_name(amqp_name):
    return "k" + pascal(amqp_name)


def gen_header(constants, classes, methods, top):
    out = [top]
    out.append(wrap_comment(
        "AMQP 0-9-1 methods as plain structs, one per method, with their wire codecs: the "
        "classes and methods of RabbitMQ's extended 0-9-1 spec plus the methods RabbitMQ 3.10 "
        "adds (protocol/codegen/rabbitmq_extensions.xml). See protocol/README.md to regenerate."))
    out.append("#pragma once\n\n")
    out.append("#include <cstddef>\n#include <cstdint>\n#include <string>\n"
               "#include <string_view>\n#include <variant>\n\n")
    out.append("#include <burrow/field_table.h>\n#include <burrow/status.h>\n\n")
    out.append('#include "protocol/wire.h"\n\n')
    out.append("namespace burrow::protocol {\n\n")

    out.append(wrap_comment(
        "Reply codes, from the spec's constants (soft errors close a channel, hard errors the "
        "connection)."))
    codes = sorted((c for c in constants if c[2] is not None or c[0] == "reply-success"),
                   key=lambda c: c[1])
    lines = [("inline constexpr uint16_t %s = %d;" % (constant_name(n), v), kind or "success")
             for n, v, kind in codes]
    width = max(len(code) for code, _ in lines)
    for code, kind in lines:  # trailing comments aligned, as clang-format aligns them
        out.append("%s  // %s\n" % (code.ljust(width), kind))
    out.append("\n")

    out.append("enum class ClassId : uint16_t {\n")
    for cls in sorted(classes, key=lambda c: c.index):
        out.append("  k%s = %d,\n" % (pascal(cls.name), cls.index))
    out.append("};\n\n")

    out.append(wrap_comment(
        "Every method struct has: kClassId and kMethodId, its ids on the wire; kName, its spec "
        "name; kHasContent, whether a content header and body frames follow it; kSynchronous, "
        "whether the peer answers it. Fields default to zero, false or empty; reserved fields "
        "are kept and written as they are. encode() appends the argument bytes (no ids). "
        "decode() reads them and overwrites every field; errors (see ArgsReader in "
        "protocol/method_args.h): kSyntaxError with kTruncatedText when the bytes end early, "
        "kFrameError \"Malformed UTF-8 in shortstr\" for a non-UTF-8 short string of a method "
        "without content, kSyntaxError for a malformed field table. Bytes after the arguments "
        "are left in the reader (decode_method rejects them). Plain values; "
        "thread-compatible."))
    out.append("\n")
    for m in methods:
        out.append("struct %s {\n" % m.struct)
        out.append("  static constexpr uint16_t kClassId = %d;\n" % m.cls.index)
        out.append("  static constexpr uint16_t kMethodId = %d;\n" % m.index)
        out.append('  static constexpr std::string_view kName = "%s";\n' % m.full_name)
        out.append("  static constexpr bool kHasContent = %s;\n" % str(m.content).lower())
        out.append("  static constexpr bool kSynchronous = %s;\n" % str(m.synchronous).lower())
        out.append("\n")
        for f in m.fields:
            cpp = CPP_TYPE[f.wire_type]
            out.append("  %s %s%s;\n" % (cpp, f.name, DEFAULT_VALUE.get(cpp, "")))
        if m.fields:
            out.append("\n")
        out.append("  void encode(Writer& w) const;\n")
        out.append("  static Status decode(Reader& r, %s& out);\n" % m.struct)
        eq = "  friend bool operator==(const %s&, const %s&) = default;" % (m.struct, m.struct)
        if len(eq) > COLUMNS:
            eq = "  friend bool operator==(const %s&,\n%sconst %s&) = default;" % (
                m.struct, " " * len("  friend bool operator==("), m.struct)
        out.append(eq + "\n")
        out.append("};\n\n")

    out.append(wrap_comment(
        "Every method, by class and then method id. The alternative's index identifies the "
        "method (method_index())."))
    out.append(variant_alias("Method", [m.struct for m in methods]))
    out.append("inline constexpr size_t kMethodCount = %d;\n\n" % len(methods))

    content = ", ".join(m.full_name for m in methods if m.content)
    out.append(DECLARATIONS.replace(
        "@CONTENT@", wrap_comment("True for the methods followed by content: %s." % content)))
    out.append("\n}  // namespace burrow::protocol\n")
    return "".join(out)


def variant_alias(name, types):
    """`using Name = std::variant<...>;`, bin-packed. clang-format's choice between breaking
    after `=` and after `<` depends on its penalties and flips with the number of types, so the
    alias is fenced off from it (clang-format off/on) rather than imitated."""
    head = "using %s = std::variant<" % name
    one = head + ", ".join(types) + ">;"
    if len(one) <= COLUMNS:
        return one + "\n"
    return "// clang-format off\n" + packed_variant(head, types) + "// clang-format on\n"


def packed_variant(head, types):
    lines = [head]
    line = "   "
    for i, t in enumerate(types):
        piece = " " + t + ("," if i + 1 < len(types) else ">;")
        if len(line) + len(piece) > COLUMNS:
            lines.append(line)
            line = "   "
        line += piece
    lines.append(line)
    return "\n".join(lines) + "\n"


DECLARATIONS = """\
// The Method alternative index of a class and method id, or -1 when RabbitMQ 3.10.8 does not know
// the pair.
int method_index(uint16_t class_id, uint16_t method_id);

// Decodes a method frame's payload (class id, method id, arguments) into `out`, reusing `out`'s
// storage when it already holds that method. Errors, and what RabbitMQ 3.10.8 does for each:
// - kNotImplemented "{unknown_method_id,{C,M}}" for an unknown class or method id: see
//   is_unknown_method().
// - kFrameError "cannot decode <<...>>" when the arguments are shorter or longer than the method's
//   layout (rabbit_misc:frame_error/2): connection.close 501 naming the method's ids.
// - kFrameError "Malformed UTF-8 in shortstr" (rabbit_binary_parser:assert_utf8/1): RabbitMQ's
//   connection.close names class/method 0/0 on channels other than 0, the method on channel 0.
// - kSyntaxError "malformed field table: ..." for a table whose entries do not parse: RabbitMQ
//   fails with function_clause and closes the socket without a reply.
// - kFrameError "type 1, all octets = <<...>>: unknown_frame" for a payload under 4 bytes (the
//   FrameReader already rejects those frames).
Status decode_method(std::string_view payload, Method& out);

// True for decode_method()'s unknown-method status. RabbitMQ 3.10.8 sends no connection.close for
// it: rabbit_framing_amqp_0_9_1:lookup_method_name/1 exits with {unknown_method_id, {C, M}}, the
// reader process crashes and the client sees the socket close. A server imitating RabbitMQ closes
// the socket without a reply.
bool is_unknown_method(const Status& status);

// Appends the class id, method id and arguments (a method frame's payload).
void encode_method(const Method& method, Writer& w);

// The spec name ("basic.publish" for 60/40); empty when unknown.
std::string_view method_name(uint16_t class_id, uint16_t method_id);
std::string_view method_name(const Method& method);
uint16_t method_class_id(const Method& method);
uint16_t method_method_id(const Method& method);
@CONTENT@bool method_has_content(uint16_t class_id, uint16_t method_id);
"""


# ---- methods.cc ----------------------------------------------------------------------------

def gen_source(methods, top):
    out = [top]
    out.append(wrap_comment(
        "Per-method argument codecs and the id -> Method index switch. The generic dispatch "
        "(decode_method, encode_method, names) is hand-written in protocol/method_dispatch.cc."))
    out.append('#include "protocol/methods.h"\n\n')
    out.append('#include "protocol/field_table_codec.h"\n#include "protocol/method_args.h"\n\n')
    out.append("namespace burrow::protocol {\n\n")
    for m in methods:
        enc, dec = [], []
        for run in bit_groups(m.fields):
            if isinstance(run, list):
                enc.append("w.put_u8(pack_bits({%s}));" % ", ".join(f.name for f in run))
                dec.append("const uint8_t bits = a.bits();")
                for i, f in enumerate(run):
                    dec.append("out.%s = (bits & %d) != 0;" % (f.name, 1 << i))
            else:
                enc.append(ENCODE[run.wire_type].format(run.name))
                op = DECODE[run.wire_type].format(run.name)
                if run.wire_type == "shortstr" and not m.content:
                    # rabbit_framing_amqp_0_9_1 calls assert_utf8 on exactly these fields.
                    op = op.replace("a.shortstr(", "a.shortstr_utf8(")
                dec.append(op)
        if len([r for r in bit_groups(m.fields) if isinstance(r, list)]) > 1:
            sys.exit("two bit groups in %s: name the octets apart" % m.full_name)
        if m.fields:
            out.append(function("void %s::encode(Writer& w) const" % m.struct, enc))
            out.append("\n")
            out.append(function("Status %s::decode(Reader& r, %s& out)" % (m.struct, m.struct),
                                ["ArgsReader a(r);"] + dec + ["return a.finish();"]))
        else:
            out.append(function("void %s::encode(Writer&) const" % m.struct, []))
            out.append("\n")
            out.append(function("Status %s::decode(Reader&, %s&)" % (m.struct, m.struct),
                                ["return Status();"]))
        out.append("\n")

    out.append("namespace {\n\n")
    out.append(function("constexpr uint32_t key(uint16_t class_id, uint16_t method_id)",
                        ["return uint32_t{class_id} << 16 | method_id;"]))
    out.append("\n}  // namespace\n\n")
    out.append("int method_index(uint16_t class_id, uint16_t method_id) {\n")
    out.append("  switch (key(class_id, method_id)) {\n")
    for i, m in enumerate(methods):
        out.append("    case key(%d, %d):  // %s\n      return %d;\n"
                   % (m.cls.index, m.index, m.struct, i))
    out.append("    default:\n      return -1;\n  }\n}\n\n")
    out.append("}  // namespace burrow::protocol\n")
    return "".join(out)


# ---- tests/protocol/method_samples.h -------------------------------------------------------

def gen_samples(methods, top):
    out = [top]
    out.append(wrap_comment(
        "A sample of every method with every field set to a non-default value (two value sets, "
        "v = 0 and v = 1; see sample_values.h), for the round-trip tests in methods_test.cc. A "
        "method without a sample here fails to link there."))
    out.append("#pragma once\n\n")
    out.append('#include "protocol/methods.h"\n#include "tests/protocol/sample_values.h"\n\n')
    out.append("namespace burrow::protocol::testing {\n\n")
    out.append("template <typename M>\nM sample(int v);\n\n")
    for m in methods:
        out.append("template <>\n")
        if not m.fields:
            out.append(function("inline %s sample<%s>(int)" % (m.struct, m.struct),
                                ["return %s{};" % m.struct], merge=False))
            out.append("\n")
            continue
        body = ["%s m;" % m.struct]
        for run in bit_groups(m.fields):
            if isinstance(run, list):
                for i, f in enumerate(run):
                    body.append("m.%s = sample_bit(v, %d);" % (f.name, i))
            else:
                i = m.fields.index(run)
                body.append("m.%s = %s;" % (run.name, SAMPLE[run.wire_type].format(
                    i=i, name=m.full_name + "." + run.amqp_name)))
        body.append("return m;")
        out.append(function("inline %s sample<%s>(int v)" % (m.struct, m.struct), body,
                            merge=False))
        out.append("\n")
    out.append("}  // namespace burrow::protocol::testing\n")
    return "".join(out)


# ---- main ----------------------------------------------------------------------------------

def label(path):
    """The path as the banner shows it: repository-relative inside the repository."""
    path = os.path.abspath(path)
    if path.startswith(REPO + os.sep):
        return os.path.relpath(path, REPO)
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--spec", default=DEFAULT_SPEC)
    parser.add_argument("--extensions", default=DEFAULT_EXTENSIONS)
    parser.add_argument("--out-dir", help="write the files flat into this directory")
    args = parser.parse_args()

    constants, classes = load(args.spec, args.extensions)
    methods = [m for cls in classes for m in cls.methods]
    top = banner(label(args.spec), label(args.extensions))
    files = {
        "methods.h": gen_header(constants, classes, methods, top),
        "methods.cc": gen_source(methods, top),
        "method_samples.h": gen_samples(methods, top),
    }
    for name, text in files.items():
        path = (os.path.join(args.out_dir, name) if args.out_dir
                else os.path.join(REPO, OUTPUTS[name]))
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)


if __name__ == "__main__":
    main()
