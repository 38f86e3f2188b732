// Logging through spdlog. Modules log with spdlog's default logger (spdlog::info, ...);
// burrowd and embedders choose the level once at start.
#pragma once

#include <string_view>

#include <burrow/status.h>

namespace burrow {

// Sets the default logger's level from "trace", "debug", "info", "warn", "error", "critical"
// or "off". Logs go to stderr so stdout stays free for burrowd's ready line, and also to
// `file` (appended) when given. Errors: kInvalidArgument (level), kIoError (file).
Status init_logging(std::string_view level, std::string_view file = {});

}  // namespace burrow
