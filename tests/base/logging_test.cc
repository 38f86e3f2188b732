// Logging: per-module loggers and the "LEVEL,module=LEVEL" syntax of --log-level.
#include "base/logging.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

namespace burrow {
namespace {

TEST(Logging, ModuleLevelsOverrideTheDefault) {
  ASSERT_TRUE(init_logging("warn,storage=debug").ok());
  EXPECT_EQ(module_logger("storage").level(), spdlog::level::debug);
  EXPECT_EQ(module_logger("amqp").level(), spdlog::level::warn);
  EXPECT_EQ(module_logger("storage").name(), "storage");
  // The same module gets the same logger.
  EXPECT_EQ(&module_logger("storage"), &module_logger("storage"));
  // A later call re-levels existing loggers.
  ASSERT_TRUE(init_logging("error").ok());
  EXPECT_EQ(module_logger("storage").level(), spdlog::level::err);
  ASSERT_TRUE(init_logging("info").ok());
}

TEST(Logging, BadLevelsAreRefused) {
  EXPECT_EQ(init_logging("loud").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(init_logging("info,storage").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(init_logging("info,storage=loud").code(), StatusCode::kInvalidArgument);
}

TEST(Logging, ALogFileReceivesModuleLines) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("burrow-log-" + std::to_string(::getpid()) + ".log");
  ASSERT_TRUE(init_logging("info", path.string()).ok());
  module_logger("http").warn("hello from {}", "http");
  module_logger("http").flush();
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_NE(text.str().find("[http] [warning] hello from http"), std::string::npos) << text.str();
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace burrow
