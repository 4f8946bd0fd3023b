// Core's presence cache: when PostgreSQL is asked who is in a location.
#include "game/presence_cache.hpp"

#include <gtest/gtest.h>

#include <functional>

namespace holomush::core {
namespace {

using namespace std::chrono_literals;

class PresenceCacheTest : public ::testing::Test {
 protected:
  // Who the cache says is in `id`, comma-joined ("error: ..." for a failure).
  std::string Ask(const std::string& id) {
    auto names = cache_.Get(id);
    if (!names) return "error: " + names.error().message;
    std::string out;
    for (const auto& n : **names) out += (out.empty() ? "" : ",") + n;
    return out;
  }

  static EventRecord Event(const std::string& type, const std::string& stream) {
    EventRecord e;
    e.type = type;
    e.stream = stream;
    return e;
  }

  int queries_ = 0;
  std::string present_ = "Ana";  // what the database says, for any location
  bool failing_ = false;
  std::function<void()> during_query_;
  std::chrono::steady_clock::time_point now_{};
  PresenceCache cache_{[this](const std::string&) -> Result<PresenceCache::Names> {
                         ++queries_;
                         const std::string seen = present_;
                         if (during_query_) during_query_();
                         if (failing_) {
                           return common::Error{common::ErrorKind::kUnavailable, "database gone"};
                         }
                         return PresenceCache::Names{seen};
                       },
                       5s, 3, [this] { return now_; }};
};

TEST_F(PresenceCacheTest, KeptUntilAnArrivalLeaveLoginOrQuitThereForgetsIt) {
  EXPECT_EQ(Ask("a"), "Ana");
  present_ = "Ana,Bob";
  EXPECT_EQ(Ask("a"), "Ana");
  EXPECT_EQ(queries_, 1);
  cache_.OnEvent(Event("say", "location:a"));  // says change nobody's presence
  cache_.OnEvent(Event("arrive", "location:b"));
  cache_.OnEvent(Event("arrive", "character:a"));
  EXPECT_EQ(Ask("a"), "Ana");
  EXPECT_EQ(queries_, 1);
  for (const char* type : {"arrive", "leave", "connect", "disconnect"}) {
    cache_.OnEvent(Event(type, "location:a"));
    EXPECT_EQ(Ask("a"), "Ana,Bob") << type;
    EXPECT_EQ(Ask("a"), "Ana,Bob") << type;
  }
  EXPECT_EQ(queries_, 5);
  cache_.Forget("a");
  EXPECT_EQ(Ask("a"), "Ana,Bob");
  cache_.ForgetAll();
  EXPECT_EQ(Ask("a"), "Ana,Bob");
  EXPECT_EQ(queries_, 7);
}

TEST_F(PresenceCacheTest, NothingIsKeptLongerThanItsMaxAge) {
  EXPECT_EQ(Ask("a"), "Ana");
  present_ = "Bob";  // changed by hand: no event says so
  now_ += 4900ms;
  EXPECT_EQ(Ask("a"), "Ana");
  now_ += 100ms;
  EXPECT_EQ(Ask("a"), "Bob");
  EXPECT_EQ(queries_, 2);
}

TEST_F(PresenceCacheTest, AQueryRunningWhenItsLocationIsForgottenIsAnsweredButNotKept) {
  during_query_ = [this] {
    during_query_ = nullptr;
    present_ = "Ana,Bob";
    cache_.Forget("a");
  };
  EXPECT_EQ(Ask("a"), "Ana");  // what the query saw before Bob arrived
  EXPECT_EQ(Ask("a"), "Ana,Bob");
  EXPECT_EQ(queries_, 2);
  // Another location forgotten meanwhile does not keep this one's answer from being kept.
  during_query_ = [this] {
    during_query_ = nullptr;
    cache_.Forget("b");
  };
  EXPECT_EQ(Ask("c"), "Ana,Bob");
  EXPECT_EQ(Ask("c"), "Ana,Bob");
  EXPECT_EQ(queries_, 3);
  during_query_ = [this] {
    during_query_ = nullptr;
    cache_.ForgetAll();
  };
  EXPECT_EQ(Ask("d"), "Ana,Bob");
  EXPECT_EQ(Ask("d"), "Ana,Bob");
  EXPECT_EQ(queries_, 5);
}

TEST_F(PresenceCacheTest, FailuresAreNeverKept) {
  failing_ = true;
  EXPECT_EQ(Ask("a"), "error: database gone");
  failing_ = false;
  EXPECT_EQ(Ask("a"), "Ana");
  EXPECT_EQ(Ask("a"), "Ana");
  EXPECT_EQ(queries_, 2);
}

TEST_F(PresenceCacheTest, PastItsCapacityEverythingIsForgotten) {
  EXPECT_EQ(Ask("a"), "Ana");
  EXPECT_EQ(Ask("b"), "Ana");
  EXPECT_EQ(Ask("c"), "Ana");
  EXPECT_EQ(queries_, 3);
  EXPECT_EQ(Ask("d"), "Ana");  // a fourth: none is kept now
  EXPECT_EQ(Ask("a"), "Ana");
  EXPECT_EQ(queries_, 5);
  EXPECT_EQ(Ask("a"), "Ana");
  EXPECT_EQ(queries_, 5);
}

}  // namespace
}  // namespace holomush::core
