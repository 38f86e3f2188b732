// The commands: list, purge, delete, export/import of definitions, the outbox's parked rows
// and the dead-letter replay loop.
#include "tools/burrowctl/commands.h"

#include <unistd.h>

#include <algorithm>
#include <boost/program_options.hpp>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <iterator>
#include <limits>
#include <map>
#include <optional>
#include <sstream>

#include <nlohmann/json.hpp>

#include "tools/burrowctl/table.h"

namespace burrow::ctl {

namespace po = boost::program_options;
using nlohmann::json;

namespace {

// ---------------------------------------------------------------------------------------------
// Argument parsing shared by the commands

std::string command_name(const Command& self) {
  std::string name;
  for (auto word : self.words) {
    if (!name.empty()) name += ' ';
    name += word;
  }
  return name;
}

void print_help(Context& ctx, const Command& self, const po::options_description& options) {
  *ctx.out << "usage: burrowctl " << command_name(self) << (self.arguments.empty() ? "" : " ")
           << self.arguments << "\n\n"
           << self.summary << "\n\n"
           << options << "\n"
           << "Global options (--url, --user, --password, --vhost, --json, --timeout): "
              "burrowctl --help\n";
}

int usage_error(Context& ctx, const Command& self, const std::string& message) {
  *ctx.err << "burrowctl " << command_name(self) << ": " << message << "\n"
           << "usage: burrowctl " << command_name(self) << " " << self.arguments << "\n";
  return kExitUsage;
}

// Parses `args` with the command's options plus --help and the positional names in `pos`
// (each declared in `positionals`). Returns an exit code when the command must stop here
// (help printed, or a usage error), nullopt to go on with `vm` filled in.
std::optional<int> parse_args(Context& ctx, const Command& self,
                              const std::vector<std::string>& args, po::options_description options,
                              const po::options_description& positionals,
                              const po::positional_options_description& pos,
                              po::variables_map& vm) {
  options.add_options()("help,h", "print this help");
  po::options_description all;
  all.add(options).add(positionals);
  try {
    po::store(po::command_line_parser(args).options(all).positional(pos).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    return usage_error(ctx, self, e.what());
  }
  if (vm.count("help")) {
    print_help(ctx, self, options);
    return kExitOk;
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// Talking to the API

struct Reply {
  int exit_code = kExitOk;  // kExitOk, or the code to stop with (the error already printed)
  std::string body;
};

// Sends one request. A non-2xx answer prints the server's reason (RabbitMQ's error bodies are
// {"error":..,"reason":..}) and yields kExitRefused; no answer yields kExitUnreachable.
Reply call(Context& ctx, std::string_view method, const std::string& path,
           const std::string& body = "") {
  HttpResponse response = ctx.http->request(method, path, body);
  if (response.status == 0) {
    *ctx.err << "burrowctl: " << response.transport_error << "\n";
    return {kExitUnreachable, ""};
  }
  if (response.status < 200 || response.status > 299) {
    std::string error = response.status_text;
    std::string reason;
    json parsed = json::parse(response.body, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_object()) {
      if (const json* e = find_field(parsed, "/error")) error = cell_text(*e);
      if (const json* r = find_field(parsed, "/reason")) reason = cell_text(*r);
    } else {
      reason = response.body.substr(0, 200);
    }
    *ctx.err << "burrowctl: " << method << " " << path << " refused (HTTP " << response.status
             << (error.empty() ? "" : ", " + error) << ")" << (reason.empty() ? "" : ": " + reason)
             << "\n";
    return {kExitRefused, ""};
  }
  return {kExitOk, std::move(response.body)};
}

// The reply's JSON, or nullopt after printing why it is unusable.
std::optional<json> parse_reply(Context& ctx, const std::string& path, const std::string& body) {
  json parsed = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    *ctx.err << "burrowctl: " << path << " did not answer with JSON\n";
    return std::nullopt;
  }
  return parsed;
}

std::string vhost_path(const Context& ctx) { return url_encode(ctx.vhost); }

// A non-negative integer field of a reply; 0 when missing or not a number.
uint64_t count_field(const json& reply, const char* key) {
  const json* field = find_field(reply, std::string("/") + key);
  if (field == nullptr) return 0;
  if (field->is_number_unsigned()) return field->get<uint64_t>();
  if (field->is_number_integer()) return std::max<int64_t>(0, field->get<int64_t>());
  return 0;
}

// ---------------------------------------------------------------------------------------------
// list

struct Listing {
  bool per_vhost;  // /api/KIND/{vhost} rather than /api/KIND
  std::vector<Column> columns;
};

const std::map<std::string, Listing>& listings() {
  static const std::map<std::string, Listing> kListings = {
      {"queues",
       {true,
        {{"name", "/name"},
         {"messages_ready", "/messages_ready"},
         {"messages_unacknowledged", "/messages_unacknowledged"},
         {"consumers", "/consumers"}}}},
      {"exchanges",
       {true,
        {{"name", "/name"},
         {"type", "/type"},
         {"durable", "/durable"},
         {"auto_delete", "/auto_delete"},
         {"internal", "/internal"}}}},
      {"bindings",
       {true,
        {{"source", "/source"},
         {"destination_type", "/destination_type"},
         {"destination", "/destination"},
         {"routing_key", "/routing_key"},
         {"arguments", "/arguments"}}}},
      {"consumers",
       {true,
        {{"queue", "/queue/name"},
         {"consumer_tag", "/consumer_tag"},
         {"channel", "/channel_details/name"},
         {"ack_required", "/ack_required"},
         {"prefetch_count", "/prefetch_count"},
         {"exclusive", "/exclusive"},
         {"active", "/active"}}}},
      {"connections",
       {false,
        {{"name", "/name"},
         {"user", "/user"},
         {"vhost", "/vhost"},
         {"channels", "/channels"},
         {"state", "/state"}}}},
      {"channels",
       {false,
        {{"name", "/name"},
         {"user", "/user"},
         {"vhost", "/vhost"},
         {"consumer_count", "/consumer_count"},
         {"messages_unacknowledged", "/messages_unacknowledged"},
         {"prefetch_count", "/prefetch_count"}}}},
      {"vhosts",
       {false,
        {{"name", "/name"},
         {"messages", "/messages"},
         {"messages_ready", "/messages_ready"},
         {"messages_unacknowledged", "/messages_unacknowledged"}}}},
      {"users", {false, {{"name", "/name"}, {"tags", "/tags"}}}},
  };
  return kListings;
}

// Prints a listing reply: raw with --json, else a table (a reply that is not a JSON list is an
// error: no table can be made of it).
int print_listing(Context& ctx, const std::string& path, const std::string& body,
                  const std::vector<Column>& columns) {
  if (ctx.json) {
    *ctx.out << body << (body.empty() || body.back() != '\n' ? "\n" : "");
    return kExitOk;
  }
  auto rows = parse_reply(ctx, path, body);
  if (!rows) return kExitRefused;
  if (!rows->is_array()) {
    *ctx.err << "burrowctl: " << path << " did not answer with a JSON list\n";
    return kExitRefused;
  }
  print_table(*ctx.out, *rows, columns);
  return kExitOk;
}

int run_list(Context& ctx, const Command& self, const std::vector<std::string>& args) {
  po::options_description options("Options");
  po::options_description positionals;
  positionals.add_options()("kind", po::value<std::string>());
  po::positional_options_description pos;
  pos.add("kind", 1);
  po::variables_map vm;
  if (auto code = parse_args(ctx, self, args, options, positionals, pos, vm)) return *code;
  if (!vm.count("kind")) return usage_error(ctx, self, "say what to list");
  const std::string& kind = vm["kind"].as<std::string>();
  auto it = listings().find(kind);
  if (it == listings().end()) return usage_error(ctx, self, "cannot list '" + kind + "'");
  std::string path = "/api/" + kind + (it->second.per_vhost ? "/" + vhost_path(ctx) : "");
  Reply reply = call(ctx, "GET", path);
  if (reply.exit_code != kExitOk) return reply.exit_code;
  return print_listing(ctx, path, reply.body, it->second.columns);
}

// ---------------------------------------------------------------------------------------------
// purge, delete

// Parses "KIND NAME" where KIND must be one of `kinds`; fills kind and name.
std::optional<int> parse_kind_and_name(Context& ctx, const Command& self,
                                       const std::vector<std::string>& args,
                                       const po::options_description& options,
                                       const std::vector<std::string>& kinds, po::variables_map& vm,
                                       std::string& kind, std::string& name) {
  po::options_description positionals;
  positionals.add_options()("kind", po::value<std::string>())("name", po::value<std::string>());
  po::positional_options_description pos;
  pos.add("kind", 1).add("name", 1);
  if (auto code = parse_args(ctx, self, args, options, positionals, pos, vm)) return code;
  if (!vm.count("kind")) return usage_error(ctx, self, "say what to act on");
  kind = vm["kind"].as<std::string>();
  if (std::find(kinds.begin(), kinds.end(), kind) == kinds.end()) {
    return usage_error(ctx, self, "unknown kind '" + kind + "'");
  }
  if (!vm.count("name")) return usage_error(ctx, self, "missing the " + kind + "'s name");
  name = vm["name"].as<std::string>();
  return std::nullopt;
}

int run_purge(Context& ctx, const Command& self, const std::vector<std::string>& args) {
  po::variables_map vm;
  std::string kind, name;
  if (auto code = parse_kind_and_name(ctx, self, args, po::options_description("Options"),
                                      {"queue"}, vm, kind, name)) {
    return *code;
  }
  Reply reply =
      call(ctx, "DELETE", "/api/queues/" + vhost_path(ctx) + "/" + url_encode(name) + "/contents");
  if (reply.exit_code != kExitOk) return reply.exit_code;
  if (!ctx.json) *ctx.out << "purged queue '" << name << "'\n";
  return kExitOk;
}

int run_delete(Context& ctx, const Command& self, const std::vector<std::string>& args) {
  po::options_description options("Options");
  options.add_options()("if-empty", "queue: only if it holds no messages")(
      "if-unused", "queue: only if it has no consumers; exchange: only if it has no bindings");
  po::variables_map vm;
  std::string kind, name;
  if (auto code =
          parse_kind_and_name(ctx, self, args, options, {"queue", "exchange"}, vm, kind, name)) {
    return *code;
  }
  if (kind == "exchange" && vm.count("if-empty")) {
    return usage_error(ctx, self, "--if-empty applies to queues only");
  }
  std::string query;
  if (vm.count("if-empty")) query += "if-empty=true";
  if (vm.count("if-unused")) query += std::string(query.empty() ? "" : "&") + "if-unused=true";
  std::string path = "/api/" + kind + "s/" + vhost_path(ctx) + "/" + url_encode(name) +
                     (query.empty() ? "" : "?" + query);
  Reply reply = call(ctx, "DELETE", path);
  if (reply.exit_code != kExitOk) return reply.exit_code;
  if (!ctx.json) *ctx.out << "deleted " << kind << " '" << name << "'\n";
  return kExitOk;
}

// ---------------------------------------------------------------------------------------------
// export, import

std::optional<int> parse_file_arg(Context& ctx, const Command& self,
                                  const std::vector<std::string>& args, std::string& file) {
  po::options_description positionals;
  positionals.add_options()("file", po::value<std::string>());
  po::positional_options_description pos;
  pos.add("file", 1);
  po::variables_map vm;
  if (auto code =
          parse_args(ctx, self, args, po::options_description("Options"), positionals, pos, vm)) {
    return code;
  }
  if (!vm.count("file")) return usage_error(ctx, self, "missing FILE (- for standard streams)");
  file = vm["file"].as<std::string>();
  return std::nullopt;
}

int run_export(Context& ctx, const Command& self, const std::vector<std::string>& args) {
  std::string file;
  if (auto code = parse_file_arg(ctx, self, args, file)) return *code;
  const std::string path = "/api/definitions";
  Reply reply = call(ctx, "GET", path);
  if (reply.exit_code != kExitOk) return reply.exit_code;
  if (file == "-") {
    *ctx.out << reply.body << (reply.body.empty() || reply.body.back() != '\n' ? "\n" : "");
    return kExitOk;
  }
  std::ofstream stream(file, std::ios::binary | std::ios::trunc);
  stream << reply.body;
  stream.close();
  if (!stream) {
    *ctx.err << "burrowctl: cannot write " << file << "\n";
    return kExitUsage;
  }
  if (!ctx.json) {
    json defs = json::parse(reply.body, nullptr, /*allow_exceptions=*/false);
    auto size_of = [&](const char* key) {
      const json* list = find_field(defs, std::string("/") + key);
      return list != nullptr && list->is_array() ? list->size() : 0;
    };
    *ctx.out << "exported definitions to " << file << " (" << size_of("queues") << " queues, "
             << size_of("exchanges") << " exchanges, " << size_of("bindings") << " bindings)\n";
  }
  return kExitOk;
}

int run_import(Context& ctx, const Command& self, const std::vector<std::string>& args) {
  std::string file;
  if (auto code = parse_file_arg(ctx, self, args, file)) return *code;
  std::string body;
  if (file == "-") {
    body.assign(std::istreambuf_iterator<char>(std::cin), {});
  } else {
    std::ifstream stream(file, std::ios::binary);
    if (!stream) {
      *ctx.err << "burrowctl: cannot read " << file << "\n";
      return kExitUsage;
    }
    body.assign(std::istreambuf_iterator<char>(stream), {});
  }
  if (!json::accept(body)) {
    *ctx.err << "burrowctl: " << file << " is not JSON\n";
    return kExitUsage;
  }
  Reply reply = call(ctx, "POST", "/api/definitions", body);
  if (reply.exit_code != kExitOk) return reply.exit_code;
  if (!ctx.json) *ctx.out << "imported definitions from " << file << "\n";
  return kExitOk;
}

// ---------------------------------------------------------------------------------------------
// outbox

const std::string kParkedPath = "/api/burrow/outbox/parked";

const std::vector<Column>& parked_columns() {
  static const std::vector<Column> kColumns = {
      {"id", "/id"},
      {"destination", "/destination"},
      {"exchange", "/exchange"},
      {"routing_key", "/routing_key"},
      {"message_id", "/message_id"},
      {"attempts", "/attempts"},
      {"created_at", "/created_at", format_epoch_ms},
      {"last_error", "/last_error"},
  };
  return kColumns;
}

int run_outbox_parked(Context& ctx, const Command& self, const std::vector<std::string>& args) {
  po::variables_map vm;
  if (auto code = parse_args(ctx, self, args, po::options_description("Options"),
                             po::options_description(), po::positional_options_description(), vm)) {
    return *code;
  }
  Reply reply = call(ctx, "GET", kParkedPath);
  if (reply.exit_code != kExitOk) return reply.exit_code;
  return print_listing(ctx, kParkedPath, reply.body, parked_columns());
}

// retry and discard: one row by id, or --all (every id the list holds now).
int run_outbox_action(Context& ctx, const Command& self, const std::vector<std::string>& args,
                      bool retry) {
  po::options_description options("Options");
  options.add_options()("all", "every parked row");
  po::options_description positionals;
  positionals.add_options()("id", po::value<std::string>());
  po::positional_options_description pos;
  pos.add("id", 1);
  po::variables_map vm;
  if (auto code = parse_args(ctx, self, args, options, positionals, pos, vm)) return *code;
  bool all = vm.count("all") > 0;
  if (all == (vm.count("id") > 0)) return usage_error(ctx, self, "give either an ID or --all");

  std::vector<uint64_t> ids;
  if (all) {
    Reply reply = call(ctx, "GET", kParkedPath);
    if (reply.exit_code != kExitOk) return reply.exit_code;
    auto rows = parse_reply(ctx, kParkedPath, reply.body);
    if (!rows) return kExitRefused;
    if (!rows->is_array()) {
      *ctx.err << "burrowctl: " << kParkedPath << " did not answer with a JSON list\n";
      return kExitRefused;
    }
    for (const auto& row : *rows) {
      const json* id = find_field(row, "/id");
      if (id != nullptr && id->is_number_unsigned()) ids.push_back(id->get<uint64_t>());
    }
  } else {
    const std::string& text = vm["id"].as<std::string>();
    if (text.empty() || text.size() > 20 ||
        !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return usage_error(ctx, self, "ID must be a non-negative integer, got '" + text + "'");
    }
    ids.push_back(std::stoull(text));
  }

  int worst = kExitOk;
  size_t done = 0;
  for (uint64_t id : ids) {
    std::string path = kParkedPath + "/" + std::to_string(id) + (retry ? "/retry" : "");
    Reply reply = call(ctx, retry ? "POST" : "DELETE", path);
    if (reply.exit_code == kExitUnreachable) return kExitUnreachable;  // the rest would fail too
    if (reply.exit_code != kExitOk) {
      worst = reply.exit_code;
      continue;
    }
    ++done;
  }
  if (!ctx.json) {
    const char* verb = retry ? "retried" : "discarded";
    if (all) {
      *ctx.out << verb << " " << done << " of " << ids.size() << " parked rows\n";
    } else if (done == 1) {
      *ctx.out << verb << " parked row " << ids.front() << "\n";
    }
  }
  return worst;
}

int run_outbox_retry(Context& ctx, const Command& self, const std::vector<std::string>& args) {
  return run_outbox_action(ctx, self, args, /*retry=*/true);
}

int run_outbox_discard(Context& ctx, const Command& self, const std::vector<std::string>& args) {
  return run_outbox_action(ctx, self, args, /*retry=*/false);
}

// ---------------------------------------------------------------------------------------------
// dlq replay

constexpr uint64_t kReplayBatch = 500;

const std::vector<Column>& replay_columns() {
  static const std::vector<Column> kColumns = {
      {"exchange", "/exchange"},
      {"routing_key", "/routing_key"},
      {"reason", "/reason"},
      {"queue", "/queue"},
      {"target_exchange", "/target_exchange"},
      {"target_routing_key", "/target_routing_key"},
  };
  return kColumns;
}

// Moves dead-lettered messages back in batches of at most kReplayBatch. Messages that do not
// match the filter stay in the queue, so each call reads past them with offset = skipped so far
// (in a dry run nothing moves, so offset = everything read so far). Stops after `count` moved,
// when a batch neither moves nor skips, when nothing remains past the offset, or once it has
// read as many messages as the queue held at the start: without that last bound, replaying
// into an exchange that routes back to this queue would never end.
int run_dlq_replay(Context& ctx, const Command& self, const std::vector<std::string>& args) {
  po::options_description options("Options");
  options.add_options()("to-exchange", po::value<std::string>(),
                        "publish to this exchange instead of each message's original one")(
      "routing-key", po::value<std::string>(),
      "with --to-exchange: use this routing key instead of each message's original one")(
      "count", po::value<uint64_t>(), "move at most N messages (default: all)")(
      "filter-reason", po::value<std::string>(),
      "only messages dead-lettered for this reason (rejected, expired, maxlen, "
      "delivery_limit)")("filter-queue", po::value<std::string>(),
                         "only messages dead-lettered from this queue")(
      "dry-run", "change nothing; list the messages that would move");
  po::options_description positionals;
  positionals.add_options()("queue", po::value<std::string>());
  po::positional_options_description pos;
  pos.add("queue", 1);
  po::variables_map vm;
  if (auto code = parse_args(ctx, self, args, options, positionals, pos, vm)) return *code;
  if (!vm.count("queue")) return usage_error(ctx, self, "missing the dead-letter QUEUE");
  if (vm.count("routing-key") && !vm.count("to-exchange")) {
    return usage_error(ctx, self, "--routing-key needs --to-exchange");
  }
  std::optional<uint64_t> limit;
  if (vm.count("count")) {
    limit = vm["count"].as<uint64_t>();
    if (*limit == 0) return usage_error(ctx, self, "--count must be at least 1");
  }
  const bool dry_run = vm.count("dry-run") > 0;
  const std::string path = "/api/burrow/queues/" + vhost_path(ctx) + "/" +
                           url_encode(vm["queue"].as<std::string>()) + "/replay";

  json request = json::object();
  request["dry_run"] = dry_run;
  if (vm.count("to-exchange")) {
    request["target"] = {{"exchange", vm["to-exchange"].as<std::string>()}};
    if (vm.count("routing-key")) {
      request["target"]["routing_key"] = vm["routing-key"].as<std::string>();
    }
  }
  if (vm.count("filter-reason") || vm.count("filter-queue")) {
    request["filter"] = json::object();
    if (vm.count("filter-reason"))
      request["filter"]["reason"] = vm["filter-reason"].as<std::string>();
    if (vm.count("filter-queue")) request["filter"]["queue"] = vm["filter-queue"].as<std::string>();
  }

  uint64_t moved = 0, skipped = 0, offset = 0, batches = 0;
  std::optional<uint64_t> budget;  // messages past offset 0 when we started
  json messages = json::array();
  int result = kExitOk;
  while (!limit || moved < *limit) {
    uint64_t want = limit ? std::min(*limit - moved, kReplayBatch) : kReplayBatch;
    request["count"] = want;
    request["offset"] = offset;
    Reply reply = call(ctx, "POST", path, request.dump());
    if (reply.exit_code != kExitOk) {
      result = reply.exit_code;
      break;
    }
    auto parsed = parse_reply(ctx, path, reply.body);
    if (!parsed || !parsed->is_object()) {
      if (parsed) *ctx.err << "burrowctl: " << path << " did not answer with a JSON object\n";
      result = kExitRefused;
      break;
    }
    uint64_t batch_moved = count_field(*parsed, "moved");
    uint64_t batch_skipped = count_field(*parsed, "skipped");
    uint64_t remaining = count_field(*parsed, "remaining");
    if (const json* list = find_field(*parsed, "/messages"); list != nullptr && list->is_array()) {
      for (const auto& m : *list) messages.push_back(m);
    }
    if (!budget) budget = batch_moved + batch_skipped + remaining;
    moved += batch_moved;
    skipped += batch_skipped;
    offset += batch_skipped + (dry_run ? batch_moved : 0);
    ++batches;
    if (ctx.progress && batches > 1) {
      *ctx.err << "\r" << (dry_run ? "checked " : "replayed ") << moved;
      if (limit) *ctx.err << "/" << *limit;
      *ctx.err << ", skipped " << skipped << std::flush;
    }
    if (batch_moved == 0 && batch_skipped == 0) break;
    if (remaining == 0) break;
    if (moved + skipped >= *budget) break;
  }
  if (ctx.progress && batches > 1) *ctx.err << "\n";
  if (batches == 0) return result;  // the first call failed; its error says it all

  if (ctx.json) {
    json summary = {
        {"moved", moved}, {"skipped", skipped}, {"dry_run", dry_run}, {"messages", messages}};
    *ctx.out << summary.dump() << "\n";
  } else if (dry_run) {
    print_table(*ctx.out, messages, replay_columns());
    *ctx.out << "dry run: would move " << moved << ", skipped " << skipped << "\n";
  } else {
    *ctx.out << "moved " << moved << ", skipped " << skipped << "\n";
  }
  return result;
}

}  // namespace

const std::vector<Command>& all_commands() {
  static const std::vector<Command> kCommands = {
      {{"list"},
       "queues|exchanges|bindings|consumers|connections|channels|vhosts|users",
       "List objects (queues, exchanges, bindings and consumers of --vhost; the others across "
       "the broker).",
       run_list},
      {{"purge"}, "queue NAME", "Remove every ready message from a queue.", run_purge},
      {{"delete"},
       "queue NAME [--if-empty] [--if-unused] | exchange NAME [--if-unused]",
       "Delete a queue or an exchange.",
       run_delete},
      {{"export"},
       "FILE",
       "Write the broker's definitions (vhosts, users, queues, exchanges, bindings, ...) as "
       "JSON to FILE (- for stdout).",
       run_export},
      {{"import"},
       "FILE",
       "Create the definitions of a JSON file (as written by export; - for stdin).",
       run_import},
      {{"outbox", "parked"},
       "",
       "List the outbox rows the relay gave up on (parked).",
       run_outbox_parked},
      {{"outbox", "retry"},
       "ID | --all",
       "Hand parked outbox rows back to the relay.",
       run_outbox_retry},
      {{"outbox", "discard"}, "ID | --all", "Delete parked outbox rows.", run_outbox_discard},
      {{"dlq", "replay"},
       "QUEUE [--to-exchange X [--routing-key K]] [--count N] [--filter-reason R] "
       "[--filter-queue Q] [--dry-run]",
       "Republish dead-lettered messages from QUEUE to the exchange and routing key they were "
       "first published to (or to --to-exchange), in batches of 500.",
       run_dlq_replay},
  };
  return kCommands;
}

}  // namespace burrow::ctl
