// burrowctl: the operator's command-line tool over the management HTTP API of burrowd (or of
// RabbitMQ 3.10 for the standard commands). Parses the global options, finds the command and
// hands it the rest of the command line.
#include <unistd.h>

#include <boost/program_options.hpp>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "tools/burrowctl/commands.h"
#include "tools/burrowctl/http_client.h"

namespace po = boost::program_options;
using burrow::ctl::Command;

namespace {

void print_usage(std::ostream& out, const po::options_description& global) {
  out << "usage: burrowctl [global options] COMMAND [arguments]\n\nCommands:\n";
  for (const Command& command : burrow::ctl::all_commands()) {
    std::string name;
    for (auto word : command.words) {
      if (!name.empty()) name += ' ';
      name += word;
    }
    if (!command.arguments.empty()) name += " ";
    out << "  " << name << command.arguments;
    out << "\n      " << command.summary << "\n";
  }
  out << "\n"
      << global << "\n"
      << "Global options may also follow the command. `burrowctl COMMAND --help` describes one "
         "command.\nExit codes: 0 ok, 1 the server refused (its reason is printed), 2 usage "
         "error, 3 cannot reach the server.\n";
}

// The command whose words start `args`, or nullptr. `group` is set when args[0] names a group
// of commands ("outbox", "dlq") but the next word matches none of them.
const Command* find_command(const std::vector<std::string>& args, bool& group) {
  group = false;
  for (const Command& command : burrow::ctl::all_commands()) {
    if (args.empty() || command.words.front() != args.front()) continue;
    group = command.words.size() > 1;
    if (args.size() < command.words.size()) continue;
    bool match = true;
    for (size_t i = 1; i < command.words.size(); ++i) match &= command.words[i] == args[i];
    if (match) return &command;
  }
  return nullptr;
}

void print_group(std::ostream& out, const std::string& group) {
  out << "usage:\n";
  for (const Command& command : burrow::ctl::all_commands()) {
    if (command.words.front() != group) continue;
    out << "  burrowctl";
    for (auto word : command.words) out << " " << word;
    if (!command.arguments.empty()) out << " " << command.arguments;
    out << "\n      " << command.summary << "\n";
  }
}

}  // namespace

int main(int argc, char** argv) {
  using namespace burrow::ctl;
  const char* env_url = std::getenv("BURROW_URL");
  std::string url = env_url != nullptr && *env_url != '\0' ? env_url : "http://127.0.0.1:15672";
  std::string user = "guest";
  std::string password = "guest";
  std::string vhost = "/";
  bool json = false;
  double timeout_s = 60;

  po::options_description global("Global options");
  global.add_options()("url", po::value<std::string>(&url)->default_value(url),
                       "management API base URL (default from $BURROW_URL, else "
                       "http://127.0.0.1:15672)")(
      "user", po::value<std::string>(&user)->default_value(user), "user (HTTP basic auth)")(
      "password", po::value<std::string>(&password)->default_value(password), "password")(
      "vhost", po::value<std::string>(&vhost)->default_value(vhost), "virtual host")(
      "json", po::bool_switch(&json), "print the server's JSON instead of tables and messages")(
      "timeout", po::value<double>(&timeout_s)->default_value(timeout_s),
      "seconds to wait for each connect, request and reply");
  po::options_description words;
  words.add_options()("words", po::value<std::vector<std::string>>());
  po::options_description all;
  all.add(global).add(words);
  po::positional_options_description pos;
  pos.add("words", -1);

  // Global options are taken from anywhere on the line; everything else (the command, its
  // arguments and options) is passed on in order. No abbreviations: "--u" must not become
  // --url or --user, nor a command's option one of ours.
  std::vector<std::string> rest;
  try {
    auto parsed =
        po::command_line_parser(argc, argv)
            .options(all)
            .positional(pos)
            .style(po::command_line_style::default_style & ~po::command_line_style::allow_guessing)
            .allow_unregistered()
            .run();
    po::variables_map vm;
    po::store(parsed, vm);
    po::notify(vm);
    rest = po::collect_unrecognized(parsed.options, po::include_positional);
  } catch (const po::error& e) {
    std::cerr << "burrowctl: " << e.what() << "\n";
    return kExitUsage;
  }

  if (rest.empty()) {
    print_usage(std::cerr, global);
    return kExitUsage;
  }
  if (rest.front() == "--help" || rest.front() == "-h") {
    print_usage(std::cout, global);
    return kExitOk;
  }
  if (rest.front() == "help") {  // "help dlq replay" = "dlq replay --help"
    rest.erase(rest.begin());
    if (rest.empty()) {
      print_usage(std::cout, global);
      return kExitOk;
    }
    rest.push_back("--help");
  }

  bool group = false;
  const Command* command = find_command(rest, group);
  if (command == nullptr) {
    if (group) {
      bool help = rest.size() > 1 && (rest[1] == "--help" || rest[1] == "-h");
      if (!help) std::cerr << "burrowctl: unknown " << rest.front() << " command\n";
      print_group(help ? std::cout : std::cerr, rest.front());
      return help ? kExitOk : kExitUsage;
    }
    std::cerr << "burrowctl: unknown command '" << rest.front()
              << "' (burrowctl --help lists them)\n";
    return kExitUsage;
  }

  std::string error;
  auto endpoint = parse_url(url, &error);
  if (!endpoint) {
    std::cerr << "burrowctl: --url " << url << ": " << error << "\n";
    return kExitUsage;
  }
  if (!(timeout_s > 0)) {
    std::cerr << "burrowctl: --timeout must be positive\n";
    return kExitUsage;
  }
  HttpClient http(*endpoint, user, password,
                  std::chrono::milliseconds(static_cast<int64_t>(timeout_s * 1000)));
  Context ctx;
  ctx.http = &http;
  ctx.vhost = vhost;
  ctx.json = json;
  ctx.progress = isatty(STDERR_FILENO) != 0;
  ctx.out = &std::cout;
  ctx.err = &std::cerr;
  std::vector<std::string> args(rest.begin() + static_cast<long>(command->words.size()),
                                rest.end());
  int code = command->run(ctx, *command, args);
  std::cout.flush();
  return code;
}
