#include "holomush/loadgen/report.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

namespace holomush::loadgen {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::string kMainBegin = "<!-- bench/run: generated from here -->";
const std::string kMainEnd = "<!-- bench/run: generated up to here -->";
const std::string kAbuseBegin = "<!-- bench/run abuse: generated from here -->";
const std::string kAbuseEnd = "<!-- bench/run abuse: generated up to here -->";

std::string MainBlock(const std::string& body) {
  return kMainBegin + "\n" + body + "\n" + kMainEnd + "\n";
}
std::string AbuseBlock(const std::string& body) {
  return kAbuseBegin + "\n" + body + "\n" + kAbuseEnd + "\n";
}

TEST(MergeReportTest, AbuseOnlyKeepsTheMainFiguresAndTheTextAround) {
  const std::string existing =
      "# Benchmark results\n\n" + MainBlock("old main") + "\n## Reading\n\nby hand\n";
  const std::string out = MergeReport(existing, "", AbuseBlock("abuse figures"));
  EXPECT_NE(out.find(MainBlock("old main")), std::string::npos);
  EXPECT_NE(out.find("## Reading\n\nby hand\n"), std::string::npos);
  EXPECT_NE(out.find(AbuseBlock("abuse figures")), std::string::npos);
  // Appended after everything else.
  EXPECT_GT(out.find(kAbuseBegin), out.find("by hand"));
}

TEST(MergeReportTest, ReplacesTheAbuseBlockInPlace) {
  const std::string existing =
      MainBlock("main") + "\ntext\n" + AbuseBlock("first abuse") + "\nafter\n";
  const std::string out = MergeReport(existing, "", AbuseBlock("second abuse"));
  EXPECT_EQ(out, MainBlock("main") + "\ntext\n" + AbuseBlock("second abuse") + "\nafter\n");
}

TEST(MergeReportTest, MainRunKeepsTheAbuseFigures) {
  const std::string existing = MainBlock("old main") + "\n" + AbuseBlock("abuse figures");
  const std::string out = MergeReport(existing, MainBlock("new main"), "");
  EXPECT_EQ(out, MainBlock("new main") + "\n" + AbuseBlock("abuse figures"));
}

TEST(MergeReportTest, BothBlocksReplacedTogether) {
  const std::string existing = "head\n" + MainBlock("a") + AbuseBlock("b");
  EXPECT_EQ(MergeReport(existing, MainBlock("c"), AbuseBlock("d")),
            "head\n" + MainBlock("c") + AbuseBlock("d"));
}

TEST(MergeReportTest, NewFileGetsATitle) {
  EXPECT_EQ(MergeReport("", "", AbuseBlock("x")), "# Benchmark results\n\n" + AbuseBlock("x"));
}

class WriteReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("holomush-report-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "results");
  }
  void TearDown() override { fs::remove_all(dir_); }

  void Put(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / "results" / name) << text;
  }
  static json Run(double login_p99, double say_p99, double lost) {
    return {{"config",
             {{"sessions", 100},
              {"rate_per_session", 0.2},
              {"rooms", 10},
              {"mix", "say=40"},
              {"warmup_s", 3},
              {"duration_s", 20},
              {"attack_accounts", 50}}},
            {"meta", {{"cpus", "2"}}},
            {"login",
             {{"requested", 100}, {"active_at_end", 100}, {"latency", {{"p99_ms", login_p99}}}}},
            {"latency", {{"say", {{"count", 10}, {"p50_ms", 1.0}, {"p99_ms", say_p99}}}}},
            {"deliveries", {{"expected", 1000}, {"lost", lost}}},
            {"servers",
             {{"core", {{"peak_rss_kb", 102400}}},
              {"gateway", {{"peak_rss_kb", 51200}}},
              {"postgres", {{"peak_rss_kb", 204800}}}}}};
  }
  std::string Read() {
    std::ifstream in(dir_ / "RESULTS.md");
    std::stringstream buf;
    buf << in.rdbuf();
    return buf.str();
  }

  fs::path dir_;
};

TEST_F(WriteReportTest, AbuseResultsFillOnlyTheAbuseBlock) {
  std::ofstream(dir_ / "RESULTS.md") << "# Benchmark results\n\n"
                                     << MainBlock("s1000 figures") << "\nanalysis\n";
  Put("abuse-quiet.json", Run(40, 10, 0).dump());
  json flood = Run(100, 15, 2);
  flood["attack"] = {{"kind", "flood"}, {"connects", 1}, {"replies", {{"too_fast", 5000}}}};
  Put("abuse-flood.json", flood.dump());
  Put("abuse-flood.core-metrics-start.txt",
      "holomush_commands_refused_total{reason=\"rate\"} 10\n");
  Put("abuse-flood.core-metrics.txt", "holomush_commands_refused_total{reason=\"rate\"} 4010\n");

  WriteReport(
      {.results_dir = (dir_ / "results").string(), .out_path = (dir_ / "RESULTS.md").string()});
  const std::string out = Read();
  EXPECT_NE(out.find(MainBlock("s1000 figures")), std::string::npos) << out;
  EXPECT_NE(out.find("\nanalysis\n"), std::string::npos);
  const size_t begin = out.find(kAbuseBegin);
  ASSERT_NE(begin, std::string::npos) << out;
  const std::string abuse = out.substr(begin);
  // Quiet row, then flood: login 2.5× (missed), say 1.5×, 2 lost, 150 MiB core + gateway.
  EXPECT_NE(abuse.find("| quiet: nobody (the baseline) | 100 of 100 | 40.0 | 1× | 10.0 | 1× | 0 "
                       "of 1,000 | 150 (100 + 50) | 200 | baseline |"),
            std::string::npos)
      << abuse;
  EXPECT_NE(abuse.find("| 100.0 | 2.5× | 15.0 | 1.5× | 2 of 1,000 |"), std::string::npos) << abuse;
  EXPECT_NE(abuse.find("**missed**"), std::string::npos);
  EXPECT_NE(abuse.find("too_fast 5,000"), std::string::npos);
  EXPECT_NE(abuse.find("commands refused (rate) 4,000"), std::string::npos) << abuse;
}

TEST_F(WriteReportTest, WithinTwiceQuietAndNothingLostIsMet) {
  Put("abuse-quiet.json", Run(40, 10, 0).dump());
  json pre = Run(79, 19.9, 0);
  pre["attack"] = {{"kind", "prelogin"}, {"connections", 1000}};
  Put("abuse-prelogin.json", pre.dump());
  WriteReport(
      {.results_dir = (dir_ / "results").string(), .out_path = (dir_ / "RESULTS.md").string()});
  const std::string out = Read();
  EXPECT_NE(out.find("| 79.0 | 2.0× | 19.9 | 2.0× | 0 of 1,000 |"), std::string::npos) << out;
  EXPECT_NE(out.find("**met**"), std::string::npos) << out;
  EXPECT_EQ(out.find(kMainBegin), std::string::npos) << "no main figures, no main block";
}

// A main scenario's figures: say p50 and p99, and each server's CPU seconds.
json Scenario(double p50, double p99, const std::map<std::string, double>& cpu) {
  json servers = json::object();
  for (const auto& [name, seconds] : cpu) servers[name] = {{"cpu_seconds", seconds}};
  return {{"config",
           {{"sessions", 1000},
            {"rate_per_session", 0.1},
            {"rooms", 100},
            {"mix", "say=40,pose=20,look=20,move=10,page=10"}}},
          {"meta", json::object()},
          {"latency", {{"say", {{"count", 100}, {"p50_ms", p50}, {"p99_ms", p99}}}}},
          {"deliveries", {{"expected", 1000}, {"lost", 0}}},
          {"servers", servers}};
}

TEST_F(WriteReportTest, GoalsWeighHoloMushAgainstTinyMuxOfTheSameRun) {
  Put("holomush-s1000.json", Scenario(3.5, 7.5, {{"core", 1}}).dump());
  Put("tinymux-s1000.json", Scenario(3.0, 8.0, {{"tinymux", 1}}).dump());
  Put("holomush-s1000x1.json",
      Scenario(7, 30, {{"core", 10}, {"gateway", 10}, {"postgres", 5}}).dump());
  Put("tinymux-s1000x1.json", Scenario(2, 32, {{"tinymux", 20}}).dump());
  json crowd = Scenario(3.6, 9.0, {{"core", 1}});
  crowd["meta"]["idle_crowd"] = "10000";
  Put("holomush-s1000idle.json", crowd.dump());
  WriteReport(
      {.results_dir = (dir_ / "results").string(), .out_path = (dir_ / "RESULTS.md").string()});
  const std::string out = Read();
  for (const char* row : {
           "| s1000: say → recipient p50 | ≤ 2 ms and ≤ TinyMUX | 3.50 ms (TinyMUX 3.00 ms: "
           "1.17×) | **missed** |",
           "| s1000: say → recipient p99 | ≤ 10 ms and ≤ TinyMUX | 7.50 ms (TinyMUX 8.00 ms: "
           "0.94×) | **met** |",
           "| s1000x1: no saturation | every line arrives, p50 ≤ 50 ms | p50 7.00 ms, 0 of 1,000 "
           "not received | **met** |",
           "| s1000x1: say → recipient p99 | ≤ TinyMUX | 30.0 ms (TinyMUX 32.0 ms: 0.94×) | "
           "**met** |",
           "| s1000x1: server CPU (core + gateway + PostgreSQL) | ≤ 1.5 × TinyMUX | 25.0 s (core "
           "10.0 + gateway 10.0 + postgres 5.0) against 20.0 s: 1.25× | **met** |",
           "| s1000 beside 10,000 idle sessions: say p99 | within 20 % of s1000 | 9.00 ms against "
           "7.50 ms: 1.20× | **met** |",
           "| s1000idle | 1,000 sessions × 0.1/s, 100 rooms, beside 10,000 idle sessions in rooms "
           "of their own |",
       }) {
    EXPECT_NE(out.find(row), std::string::npos) << row << "\n" << out;
  }
}

TEST_F(WriteReportTest, EmptyFolderIsAnError) {
  EXPECT_THROW(WriteReport({.results_dir = (dir_ / "results").string(),
                            .out_path = (dir_ / "RESULTS.md").string()}),
               std::runtime_error);
}

}  // namespace
}  // namespace holomush::loadgen
