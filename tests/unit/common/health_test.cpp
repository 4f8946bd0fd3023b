// Liveness follows heartbeats of the process's own loops: pure logic, with chosen times.
#include "holomush/common/health.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <thread>

namespace holomush::common {
namespace {

using namespace std::chrono_literals;
using Clock = Heartbeat::Clock;

TEST(HeartbeatTest, ALoopIsLateOnlyAfterItsAllowance) {
  Health health;
  Heartbeat* loop = health.AddHeartbeat("listener loop", 30s);
  const auto t0 = Clock::now();
  loop->Beat(t0);
  EXPECT_TRUE(health.Liveness(t0 + 30s).ready);
  const auto late = health.Liveness(t0 + 31s);
  EXPECT_FALSE(late.ready);
  ASSERT_EQ(late.failing.size(), 1u);
  EXPECT_EQ(late.failing[0].rfind("listener loop: no heartbeat for 1000 ms", 0), 0u)
      << late.failing[0];
  loop->Beat(t0 + 31s);
  EXPECT_TRUE(health.Liveness(t0 + 31s).ready);
}

TEST(HeartbeatTest, TimeWaitingOutsideTheProcessNeverCounts) {
  Health health;
  Heartbeat* writer = health.AddHeartbeat("event writer", 30s);
  {
    Heartbeat::Outside in_database(writer);
    EXPECT_TRUE(health.Liveness(Clock::now() + 1h).ready);
  }
  // Back from the database: the allowance starts again from the return.
  EXPECT_TRUE(health.Liveness(Clock::now() + 29s).ready);
  EXPECT_FALSE(health.Liveness(Clock::now() + 31s).ready);
}

TEST(HeartbeatTest, ARetiredLoopNoLongerCounts) {
  Health health;
  Heartbeat* loop = health.AddHeartbeat("event writer", 1s);
  EXPECT_FALSE(health.Liveness(Clock::now() + 2s).ready);
  loop->Retire();
  EXPECT_TRUE(health.Liveness(Clock::now() + 2s).ready);
}

TEST(HeartbeatTest, LivenessIgnoresReadiness) {
  Health health;
  health.Set("database", false, "connection refused");
  health.AddHeartbeat("event writer", 30s);
  EXPECT_TRUE(health.Liveness().ready);
  EXPECT_FALSE(health.Readiness().ready);
}

TEST(ExecutorHeartbeatTest, BeatsOnlyWhenTheExecutorRunsWhatIsPosted) {
  Health health;
  Heartbeat* running = health.AddHeartbeat("running pool", 10s);
  Heartbeat* stuck = health.AddHeartbeat("stuck pool", 10s);
  const auto start = Clock::now();
  std::atomic<bool> beat_after_start{false};
  std::atomic<int> held{0};
  {
    ExecutorHeartbeat runs(
        running,
        [&](std::function<void()> beat) {
          const bool later = Clock::now() > start + 1ms;
          beat();
          if (later) beat_after_start = true;
        },
        1ms);
    ExecutorHeartbeat holds(
        stuck, [&](std::function<void()>) { ++held; }, 1ms);
    while (!beat_after_start || held < 2) std::this_thread::yield();
    // 10 s and 1 ms after the start: the stuck pool's only beat was at registration.
    const auto report = health.Liveness(start + 10s + 1ms);
    ASSERT_EQ(report.failing.size(), 1u);
    EXPECT_EQ(report.failing[0].rfind("stuck pool:", 0), 0u) << report.failing[0];
  }
  // Stopped on purpose: neither counts any more.
  EXPECT_TRUE(health.Liveness(Clock::now() + 1h).ready);
}

}  // namespace
}  // namespace holomush::common
