#include "holomush/common/logging.hpp"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <sstream>

namespace holomush::common {
namespace {

TEST(LoggerTest, JsonLineCarriesTimeLevelComponentMessageAndFields) {
  auto line = nlohmann::json::parse(Logger::Format(LogFormat::kJson, LogLevel::kError, "core",
                                                   "alias rollback failed",
                                                   {{"alias", "x"}, {"count", 3}}));
  EXPECT_TRUE(line.contains("time"));
  EXPECT_EQ(line["level"], "error");
  EXPECT_EQ(line["component"], "core");
  EXPECT_EQ(line["msg"], "alias rollback failed");
  EXPECT_EQ(line["alias"], "x");
  EXPECT_EQ(line["count"], 3);
}

TEST(LoggerTest, TextLineIsReadable) {
  auto line =
      Logger::Format(LogFormat::kText, LogLevel::kInfo, "gateway", "started", {{"port", 4201}});
  EXPECT_NE(line.find(" info [gateway] started port=4201"), std::string::npos);
}

TEST(LoggerTest, LevelFiltersAndSinkReceivesOneLinePerRecord) {
  std::ostringstream out;
  ConfigureLogging(LogFormat::kJson, LogLevel::kWarn,
                   std::make_shared<spdlog::sinks::ostream_sink_mt>(out));
  Logger log("test");
  log.Info("hidden");
  log.Warn("shown", {{"k", "v"}});
  auto text = out.str();
  EXPECT_EQ(text.find("hidden"), std::string::npos);
  EXPECT_EQ(nlohmann::json::parse(text)["msg"], "shown");
}

TEST(LoggerTest, InvalidUtf8IsReplacedNotThrown) {
  auto line = Logger::Format(LogFormat::kJson, LogLevel::kInfo, "x", "bad \xff byte", {});
  // The bad byte becomes U+FFFD; the rest of the message is kept.
  EXPECT_EQ(nlohmann::json::parse(line)["msg"], "bad \xef\xbf\xbd byte");
}

}  // namespace
}  // namespace holomush::common
