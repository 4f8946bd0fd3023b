// Core's world cache: when PostgreSQL is asked for a place, and what `look` is given.
#include "game/world_cache.hpp"

#include <gtest/gtest.h>

#include <functional>

namespace holomush::core {
namespace {

class WorldCacheTest : public ::testing::Test {
 protected:
  // The description the cache answers with for `id` ("error: ..." for a failure).
  std::string Ask(const std::string& id) {
    auto known = cache_.Get(id);
    if (!known) return "error: " + known.error().message;
    return (*known)->place.location.description;
  }

  int loads_ = 0;
  std::string description_ = "first";
  bool failing_ = false;
  std::function<void()> during_load_;
  WorldCache cache_{[this](const std::string& id) -> Result<Place> {
                      ++loads_;
                      const std::string read = description_;  // what the query saw
                      if (during_load_) during_load_();
                      if (failing_) {
                        return common::Error{common::ErrorKind::kUnavailable, "database gone"};
                      }
                      if (id == "gone") return common::Error{common::ErrorKind::kNotFound, "gone"};
                      return Place{{id, "Room " + id, read},
                                   {{"e1", "north", "n-id", {"n", "up"}}, {"e2", "out", "o", {}}}};
                    },
                    3};
};

TEST_F(WorldCacheTest, APlaceIsLoadedOnceAndKept) {
  EXPECT_EQ(Ask("a"), "first");
  description_ = "second";
  EXPECT_EQ(Ask("a"), "first");
  EXPECT_EQ(loads_, 1);
  auto known = cache_.Get("a");
  ASSERT_TRUE(known);
  EXPECT_EQ((*known)->exits_line, "Exits: north (n, up), out");
}

TEST_F(WorldCacheTest, ForgetMakesTheNextGetLoadAgain) {
  EXPECT_EQ(Ask("a"), "first");
  EXPECT_EQ(Ask("b"), "first");
  description_ = "second";
  cache_.OnNotify("a");
  EXPECT_EQ(Ask("a"), "second");
  EXPECT_EQ(Ask("b"), "first");  // another place is kept
  cache_.OnNotify("");           // everything
  EXPECT_EQ(Ask("b"), "second");
  EXPECT_EQ(loads_, 4);
}

TEST_F(WorldCacheTest, FailuresAndMissingPlacesAreNeverKept) {
  failing_ = true;
  EXPECT_EQ(Ask("a"), "error: database gone");
  failing_ = false;
  EXPECT_EQ(Ask("a"), "first");
  EXPECT_EQ(Ask("gone"), "error: gone");
  EXPECT_EQ(Ask("gone"), "error: gone");
  EXPECT_EQ(loads_, 4);
  EXPECT_EQ(cache_.size(), 1u);
}

TEST_F(WorldCacheTest, ALoadRunningWhenAPlaceIsForgottenIsAnsweredButNotKept) {
  during_load_ = [this] {
    during_load_ = nullptr;
    description_ = "changed meanwhile";
    cache_.Forget("a");  // the NOTIFY of a change the running load may not have seen
  };
  EXPECT_EQ(Ask("a"), "first");
  EXPECT_EQ(Ask("a"), "changed meanwhile");
  EXPECT_EQ(loads_, 2);
}

TEST_F(WorldCacheTest, NoMoreThanCapacityPlacesAreKept) {
  for (const char* id : {"a", "b", "c", "d", "e"}) EXPECT_EQ(Ask(id), "first");
  EXPECT_EQ(cache_.size(), 3u);
}

TEST(WorldCacheExitsLineTest, ARoomWithoutExitsSaysNone) {
  WorldCache cache([](const std::string& id) -> Result<Place> { return Place{{id, "x", ""}, {}}; });
  auto known = cache.Get("a");
  ASSERT_TRUE(known);
  EXPECT_EQ((*known)->exits_line, "Exits: none");
}

}  // namespace
}  // namespace holomush::core
