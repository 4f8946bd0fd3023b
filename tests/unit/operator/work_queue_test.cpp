#include "holomush/operator/work_queue.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include "support/wait.hpp"

namespace holomush::op {
namespace {

using std::chrono::milliseconds;
using Time = std::chrono::steady_clock::time_point;

struct FakeClock {
  Time now{};
  Clock Fn() {
    return [this] { return now; };
  }
};

TEST(RetryLimiterTest, BacksOffExponentiallyPerKeyUpToTheCap) {
  FakeClock clock;
  RetryLimiter limiter(
      {.base = milliseconds(100), .max = milliseconds(1000), .qps = 1000, .burst = 1000},
      clock.Fn());
  EXPECT_EQ(limiter.When("a"), milliseconds(100));
  EXPECT_EQ(limiter.When("a"), milliseconds(200));
  EXPECT_EQ(limiter.When("a"), milliseconds(400));
  EXPECT_EQ(limiter.When("b"), milliseconds(100));  // keys are independent
  EXPECT_EQ(limiter.When("a"), milliseconds(800));
  EXPECT_EQ(limiter.When("a"), milliseconds(1000));
  limiter.Forget("a");
  EXPECT_EQ(limiter.When("a"), milliseconds(100));
}

TEST(RetryLimiterTest, GlobalBucketSpreadsABurstOfFailures) {
  FakeClock clock;
  RetryLimiter limiter({.base = milliseconds(1), .max = milliseconds(1), .qps = 10, .burst = 2},
                       clock.Fn());
  EXPECT_EQ(limiter.When("a"), milliseconds(1));
  EXPECT_EQ(limiter.When("b"), milliseconds(1));
  EXPECT_EQ(limiter.When("c"), milliseconds(100));  // bucket empty: 1/qps
  EXPECT_EQ(limiter.When("d"), milliseconds(200));
  clock.now += std::chrono::seconds(10);  // refilled
  EXPECT_EQ(limiter.When("e"), milliseconds(1));
}

TEST(WorkQueueTest, DeduplicatesKeysWaitingToBeProcessed) {
  WorkQueue q;
  q.Add("a");
  q.Add("a");
  q.Add("b");
  EXPECT_EQ(q.Len(), 2u);
  EXPECT_EQ(q.Get(), "a");
  EXPECT_EQ(q.Get(), "b");
  EXPECT_EQ(q.Len(), 0u);
}

TEST(WorkQueueTest, AKeyAddedWhileProcessingIsHandedOutAgainOnlyAfterDone) {
  WorkQueue q;
  q.Add("a");
  ASSERT_EQ(q.Get(), "a");
  q.Add("a");
  EXPECT_EQ(q.Len(), 0u);  // not concurrently
  q.Done("a");
  EXPECT_EQ(q.Len(), 1u);
  EXPECT_EQ(q.Get(), "a");
}

TEST(WorkQueueTest, DelayedKeysArriveWhenTheirTimeComes) {
  FakeClock clock;
  WorkQueue q({}, clock.Fn());
  q.AddAfter("later", milliseconds(500));
  std::atomic<bool> got{false};
  std::thread worker([&] {
    auto key = q.Get();
    got = key.has_value() && *key == "later";
  });
  EXPECT_FALSE(testing::WaitUntil([&] { return got.load(); }, milliseconds(200)));
  clock.now += milliseconds(500);
  EXPECT_TRUE(testing::WaitUntil([&] { return got.load(); }));
  worker.join();
}

TEST(WorkQueueTest, OneRequeuePerKeyAndTheEarliestWins) {
  FakeClock clock;
  WorkQueue q({}, clock.Fn());
  // Every successful reconcile asks for its next look: however often, one timer per key.
  for (int i = 0; i < 100; ++i) q.AddAfter("a", std::chrono::minutes(5));
  q.AddAfter("a", std::chrono::seconds(1));   // sooner: replaces the pending one
  q.AddAfter("a", std::chrono::minutes(10));  // later: the pending one covers it
  q.AddAfter("b", std::chrono::seconds(2));
  EXPECT_EQ(q.Waiting(), 2u);
  EXPECT_EQ(q.Len(), 0u);

  clock.now += std::chrono::seconds(1);
  EXPECT_EQ(q.Get(), "a");
  q.Done("a");
  EXPECT_EQ(q.Waiting(), 1u);  // only b: a had one requeue, and it has run
  clock.now += std::chrono::minutes(10);
  EXPECT_EQ(q.Get(), "b");
  q.Done("b");
  EXPECT_EQ(q.Waiting(), 0u);
  EXPECT_EQ(q.Len(), 0u);
}

TEST(WorkQueueTest, DepthListenerSeesTheWaitingKeysStayBounded) {
  FakeClock clock;
  WorkQueue q({}, clock.Fn());
  size_t most_waiting = 0;
  q.OnDepth([&](size_t, size_t waiting) { most_waiting = std::max(most_waiting, waiting); });
  for (int i = 0; i < 1000; ++i) {
    q.Add("ns/game");
    ASSERT_EQ(q.Get(), "ns/game");
    q.AddAfter("ns/game", std::chrono::minutes(5));  // what a successful reconcile does
    q.Done("ns/game");
  }
  EXPECT_EQ(most_waiting, 1u);
}

TEST(WorkQueueTest, GetSleepsUntilTheNextRequeueWithoutPolling) {
  std::atomic<int> reads{0};
  const Time start{};
  WorkQueue q({}, [&] {
    ++reads;
    return start;
  });
  q.AddAfter("a", std::chrono::hours(1));
  std::thread worker([&] { EXPECT_FALSE(q.Get().has_value()); });
  // A worker waking every 50 ms to look at the clock would read it ten times here; one
  // that sleeps until the requeue is due reads it once or twice.
  EXPECT_FALSE(testing::WaitUntil([&] { return reads.load() > 6; }, milliseconds(500)))
      << reads.load() << " clock reads";
  q.ShutDown();
  worker.join();
}

TEST(WorkQueueTest, ShutDownReleasesWaitingWorkers) {
  WorkQueue q;
  std::atomic<bool> returned{false};
  std::thread worker([&] {
    EXPECT_FALSE(q.Get().has_value());
    returned = true;
  });
  q.ShutDown();
  EXPECT_TRUE(testing::WaitUntil([&] { return returned.load(); }));
  worker.join();
}

TEST(WorkQueueTest, RateLimitedRequeueGrowsUntilForgotten) {
  WorkQueue q({.base = milliseconds(10), .max = milliseconds(1000), .qps = 1000, .burst = 1000});
  EXPECT_EQ(q.AddRateLimited("a"), milliseconds(10));
  EXPECT_EQ(q.AddRateLimited("a"), milliseconds(20));
  q.Forget("a");
  EXPECT_EQ(q.AddRateLimited("a"), milliseconds(10));
}

}  // namespace
}  // namespace holomush::op
