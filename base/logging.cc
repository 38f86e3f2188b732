// spdlog setup.
#include "base/logging.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <string>

namespace burrow {

Status init_logging(std::string_view level, std::string_view file) {
  auto parsed = spdlog::level::from_str(std::string(level));
  if (parsed == spdlog::level::off && level != "off") {
    return invalid_argument("unknown log level '" + std::string(level) + "'");
  }
  static auto logger = [] {
    auto l = spdlog::stderr_color_mt("burrow");
    spdlog::set_default_logger(l);
    return l;
  }();
  if (!file.empty()) {
    try {
      logger->sinks().push_back(
          std::make_shared<spdlog::sinks::basic_file_sink_mt>(std::string(file), false));
    } catch (const spdlog::spdlog_ex& e) {
      return Status(StatusCode::kIoError, "cannot open log file: " + std::string(e.what()));
    }
  }
  logger->set_level(parsed);
  return Status();
}

}  // namespace burrow
