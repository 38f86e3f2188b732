// spdlog setup.
#include "base/logging.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <string>

namespace burrow {

Status init_logging(std::string_view level) {
  auto parsed = spdlog::level::from_str(std::string(level));
  if (parsed == spdlog::level::off && level != "off") {
    return invalid_argument("unknown log level '" + std::string(level) + "'");
  }
  static auto logger = [] {
    auto l = spdlog::stderr_color_mt("burrow");
    spdlog::set_default_logger(l);
    return l;
  }();
  logger->set_level(parsed);
  return Status();
}

}  // namespace burrow
