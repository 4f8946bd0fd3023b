// Which pg_dump a backup runs: the installed client that can dump the server's version.
#include <gtest/gtest.h>

#include <filesystem>

#include "process.hpp"

namespace holomush::backup {
namespace {

const std::string kClient15 = "/usr/lib/postgresql/15/bin/pg_dump";

std::string Found(const common::Result<std::string>& found) {
  return found.ok() ? found.value() : "error: " + found.error().message;
}

TEST(FindToolTest, TakesTheOldestInstalledClientNotOlderThanTheServer) {
  // scripts/setup installs PostgreSQL 15 (Debian bookworm's); the tests' servers are that.
  ASSERT_TRUE(std::filesystem::exists(kClient15));
  EXPECT_EQ(Found(FindTool("pg_dump", "", 15)), kClient15);
  EXPECT_EQ(Found(FindTool("pg_dump", "", 12)), kClient15);  // 15 dumps a 12
  // No client that new: the one on PATH (or the newest), which then refuses by name.
  auto newer = FindTool("pg_dump", "", 99);
  ASSERT_TRUE(newer.ok()) << newer.error().message;
  EXPECT_EQ(std::filesystem::path(*newer).filename(), "pg_dump");
}

TEST(FindToolTest, AnOverrideWinsAndAMissingOneIsNamed) {
  EXPECT_EQ(Found(FindTool("pg_dump", kClient15, 17)), kClient15);
  auto missing = FindTool("pg_dump", "/nonexistent/pg_dump", 15);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().message, "/nonexistent/pg_dump is not an executable file");
}

}  // namespace
}  // namespace holomush::backup
