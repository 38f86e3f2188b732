// burrowctl's commands. Each one parses its own arguments and maps them onto management HTTP
// API calls (RabbitMQ's paths, plus Burrow's /api/burrow/... endpoints).
#pragma once

#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "tools/burrowctl/http_client.h"

namespace burrow::ctl {

// Exit codes, the contract scripts rely on.
inline constexpr int kExitOk = 0;
inline constexpr int kExitRefused = 1;      // the server answered with an error (reason printed)
inline constexpr int kExitUsage = 2;        // bad command line or unusable local file
inline constexpr int kExitUnreachable = 3;  // no answer: cannot resolve, connect, send or read

// What every command runs with; the global options, already parsed.
struct Context {
  HttpClient* http = nullptr;
  std::string vhost = "/";
  bool json = false;      // print the server's JSON instead of tables and messages
  bool progress = false;  // stderr is a terminal: show progress of multi-batch operations
  std::ostream* out = nullptr;
  std::ostream* err = nullptr;
};

struct Command;
using CommandFn = int (*)(Context& ctx, const Command& self, const std::vector<std::string>& args);

struct Command {
  std::vector<std::string_view> words;  // e.g. {"dlq", "replay"}
  std::string_view arguments;           // synopsis after the words, e.g. "QUEUE [--count N]"
  std::string_view summary;             // one line for the command list
  CommandFn run;                        // gets the arguments after the words
};

// Every command, in the order `burrowctl --help` lists them.
const std::vector<Command>& all_commands();

}  // namespace burrow::ctl
