// Core's `who` from one shared reply: how often PostgreSQL is asked, and what each caller gets.
#include "game/who_cache.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <thread>

namespace holomush::core {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

class CoreWhoCacheTest : public ::testing::Test {
 protected:
  // The name the cache answers with ("error: ..." for a failure).
  std::string Ask() {
    auto rows = cache_.Get();
    if (!rows) return "error: " + rows.error().message;
    return rows->empty() ? "" : rows->front().name;
  }

  int asked_ = 0;
  std::string connected_ = "Ana";
  bool failing_ = false;
  std::function<void()> during_query_;
  steady_clock::time_point now_ = steady_clock::now();
  WhoCache cache_{[this]() -> Result<WhoCache::Rows> {
                    ++asked_;
                    if (during_query_) during_query_();
                    if (failing_) {
                      return common::Error{common::ErrorKind::kUnavailable, "database gone"};
                    }
                    return WhoCache::Rows{{connected_, 0}};
                  },
                  milliseconds(1000), [this] { return now_; }};
};

TEST_F(CoreWhoCacheTest, AskingAgainWithinTheSecondCostsNoQuery) {
  EXPECT_EQ(Ask(), "Ana");
  connected_ = "Bob";
  now_ += milliseconds(999);
  EXPECT_EQ(Ask(), "Ana");
  EXPECT_EQ(asked_, 1);
  now_ += milliseconds(1);
  EXPECT_EQ(Ask(), "Bob");
  EXPECT_EQ(asked_, 2);
}

TEST_F(CoreWhoCacheTest, ASessionConnectingOrLeavingHereIsSeenAtOnce) {
  EXPECT_EQ(Ask(), "Ana");
  connected_ = "Bob";
  cache_.Forget();
  EXPECT_EQ(Ask(), "Bob");
  EXPECT_EQ(asked_, 2);
}

TEST_F(CoreWhoCacheTest, AnAnswerOlderThanAChangeIsPassedOnButNotKept) {
  during_query_ = [this] {
    during_query_ = nullptr;
    connected_ = "Bob";  // the query read the old state, then a session connected
    cache_.Forget();
  };
  EXPECT_EQ(Ask(), "Bob");
  EXPECT_EQ(Ask(), "Bob");
  EXPECT_EQ(asked_, 2);
}

TEST_F(CoreWhoCacheTest, FailuresArePassedOnNeverKept) {
  failing_ = true;
  EXPECT_EQ(Ask(), "error: database gone");
  failing_ = false;
  EXPECT_EQ(Ask(), "Ana");
  EXPECT_EQ(asked_, 2);
}

TEST(CoreWhoCacheThreadsTest, CallersArrivingDuringAQueryShareItsAnswer) {
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  std::atomic<int> asked{0};
  WhoCache cache(
      [&]() -> Result<WhoCache::Rows> {
        ++asked;
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return release; });
        return WhoCache::Rows{{"Ana", 0}};
      },
      std::chrono::hours(1));
  std::atomic<int> started{0};
  std::atomic<int> answered{0};
  std::vector<std::thread> callers;
  for (int i = 0; i < 8; ++i) {
    callers.emplace_back([&] {
      ++started;
      auto rows = cache.Get();
      if (rows && rows->size() == 1 && rows->front().name == "Ana") ++answered;
    });
  }
  // Hold the first caller in the query until every caller is on its way in.
  while (asked.load() == 0 || started.load() < 8) std::this_thread::yield();
  {
    std::lock_guard lock(mu);
    release = true;
  }
  cv.notify_all();
  for (auto& t : callers) t.join();
  EXPECT_EQ(answered.load(), 8);
  EXPECT_EQ(asked.load(), 1);
}

}  // namespace
}  // namespace holomush::core
