// spdlog setup: one default logger ("burrow") and one logger per module sharing its sinks.
#include "base/logging.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace burrow {

namespace {

struct Registry {
  std::mutex mu;
  std::shared_ptr<spdlog::logger> root;
  std::map<std::string, std::shared_ptr<spdlog::logger>, std::less<>> modules;
  std::map<std::string, spdlog::level::level_enum, std::less<>> overrides;
  spdlog::level::level_enum level = spdlog::level::info;

  // Call with mu held.
  void ensure_root() {
    if (root) return;
    root = spdlog::stderr_color_mt("burrow");
    spdlog::set_default_logger(root);
  }
  spdlog::level::level_enum level_of(std::string_view module) const {
    auto it = overrides.find(module);
    return it == overrides.end() ? level : it->second;
  }
};

Registry& registry() {
  static Registry* r = new Registry();  // never destroyed: loggers are used until exit
  return *r;
}

Result<spdlog::level::level_enum> parse_level(std::string_view text) {
  auto parsed = spdlog::level::from_str(std::string(text));
  if (parsed == spdlog::level::off && text != "off") {
    return invalid_argument("unknown log level '" + std::string(text) + "'");
  }
  return parsed;
}

}  // namespace

spdlog::logger& module_logger(std::string_view module) {
  Registry& r = registry();
  std::lock_guard lock(r.mu);
  if (auto it = r.modules.find(module); it != r.modules.end()) return *it->second;
  r.ensure_root();
  auto logger = std::make_shared<spdlog::logger>(std::string(module), r.root->sinks().begin(),
                                                 r.root->sinks().end());
  logger->set_level(r.level_of(module));
  auto& slot = r.modules[std::string(module)];
  slot = std::move(logger);
  return *slot;
}

Status init_logging(std::string_view level, std::string_view file) {
  // "LEVEL[,module=LEVEL...]"
  spdlog::level::level_enum base = spdlog::level::info;
  std::map<std::string, spdlog::level::level_enum, std::less<>> overrides;
  bool first = true;
  while (true) {
    const size_t comma = level.find(',');
    std::string_view item = level.substr(0, comma);
    const size_t eq = item.find('=');
    if (first && eq == std::string_view::npos) {
      auto parsed = parse_level(item);
      if (!parsed.ok()) return parsed.status();
      base = *parsed;
    } else if (eq != std::string_view::npos) {
      auto parsed = parse_level(item.substr(eq + 1));
      if (!parsed.ok()) return parsed.status();
      overrides[std::string(item.substr(0, eq))] = *parsed;
    } else {
      return invalid_argument("log level '" + std::string(item) +
                              "' must be the first item, or MODULE=LEVEL");
    }
    first = false;
    if (comma == std::string_view::npos) break;
    level.remove_prefix(comma + 1);
  }
  Registry& r = registry();
  std::lock_guard lock(r.mu);
  r.ensure_root();
  if (!file.empty()) {
    try {
      auto sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(std::string(file), false);
      r.root->sinks().push_back(sink);
      for (auto& [_, logger] : r.modules) logger->sinks().push_back(sink);
    } catch (const spdlog::spdlog_ex& e) {
      return Status(StatusCode::kIoError, "cannot open log file: " + std::string(e.what()));
    }
  }
  r.level = base;
  r.overrides = std::move(overrides);
  r.root->set_level(base);
  for (auto& [name, logger] : r.modules) logger->set_level(r.level_of(name));
  return Status();
}

}  // namespace burrow
