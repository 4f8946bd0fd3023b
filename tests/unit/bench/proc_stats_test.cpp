#include "holomush/loadgen/proc_stats.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

namespace holomush::loadgen {
namespace {

TEST(ParseProcStatTest, ReadsTimesAndParentEvenWithAnAwkwardName) {
  const std::string text =
      "4242 (postgres: holomush bench (idle)) S 4200 4200 4200 0 -1 4194560 500 0 0 0 "
      "123 45 6 7 20 0 1 0 100 1000000 200 18446744073709551615";
  const auto st = ParseProcStat(text);
  ASSERT_TRUE(st.has_value());
  EXPECT_EQ(st->pid, 4242);
  EXPECT_EQ(st->ppid, 4200);
  EXPECT_EQ(st->comm, "postgres: holomush bench (idle)");
  EXPECT_EQ(st->utime, 123u);
  EXPECT_EQ(st->stime, 45u);
  EXPECT_EQ(st->cutime, 6u);
  EXPECT_EQ(st->cstime, 7u);
}

TEST(ParseProcStatTest, RejectsTruncatedText) {
  EXPECT_FALSE(ParseProcStat("12 (x) S 1 2").has_value());
  EXPECT_FALSE(ParseProcStat("").has_value());
}

TEST(ParseProcStatusTest, ReadsResidentSizes) {
  const std::string text =
      "Name:\tnetmux\nVmPeak:\t  20000 kB\nVmHWM:\t    9000 kB\nVmRSS:\t    8000 kB\n"
      "RssAnon:\t    5000 kB\nRssFile:\t    3000 kB\n";
  const auto m = ParseProcStatus(text);
  EXPECT_EQ(m.rss_kb, 8000u);
  EXPECT_EQ(m.hwm_kb, 9000u);
  EXPECT_EQ(m.anon_kb, 5000u);
}

TEST(ParsePssKbTest, ReadsProportionalSetSize) {
  const std::string text =
      "55d0a0000000-7ffd0f9f1000 ---p 00000000 00:00 0                          [rollup]\n"
      "Rss:                8000 kB\nPss:                5120 kB\nPss_Anon:           4000 kB\n";
  EXPECT_EQ(ParsePssKb(text), 5120u);
}

TEST(ParseBusySecondsTest, CountsEverythingButIdleAndIowait) {
  // user nice system idle iowait irq softirq steal guest guest_nice
  const std::string text = "cpu  100 20 30 5000 70 1 2 3 0 0\ncpu0 50 10 15 2500 35 0 1 1 0 0\n";
  EXPECT_DOUBLE_EQ(ParseBusySeconds(text, 100), (100 + 20 + 30 + 1 + 2 + 3) / 100.0);
  EXPECT_EQ(ParseBusySeconds("intr 1 2 3\n", 100), 0);
  EXPECT_GT(MachineBusySeconds(), 0);
}

TEST(SampleGroupsTest, FindsThisProcessAndItsMemory) {
  const auto groups = SampleGroups({{"self", getpid()}, {"gone", 0}}, true);
  ASSERT_EQ(groups.count("self"), 1u);
  EXPECT_GE(groups.at("self").processes, 1u);
  EXPECT_GT(groups.at("self").rss_kb, 0u);
  EXPECT_GT(groups.at("self").pss_kb, 0u);
  EXPECT_EQ(groups.at("gone").processes, 0u);
}

}  // namespace
}  // namespace holomush::loadgen
