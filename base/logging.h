// Logging through spdlog. Modules log with spdlog's default logger (spdlog::info, ...);
// burrowd and embedders choose the level once at start.
#pragma once

#include <string_view>

#include <burrow/status.h>

namespace spdlog {
class logger;
}

namespace burrow {

// The logger of one module ("storage", "broker", "outbox", "amqp", "http", "alarm"): its lines
// carry the module's name, and --log-level can set its level alone ("info,storage=debug").
// It writes to the sinks init_logging set up. Thread-safe; the reference stays valid.
spdlog::logger& module_logger(std::string_view module);

// Sets the level from "trace", "debug", "info", "warn", "error", "critical" or "off",
// optionally followed by per-module levels: "warn,storage=debug,amqp=info". Logs go to stderr so
// stdout stays free for burrowd's ready line, and also to `file` (appended) when given. Errors:
// kInvalidArgument (level), kIoError (file).
Status init_logging(std::string_view level, std::string_view file = {});

}  // namespace burrow
