// The informer's cache against a scripted watch: what a write result may and may not put
// into the store once the watch has spoken.
#include "holomush/operator/informer.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>

#include "support/wait.hpp"

namespace holomush::op {
namespace {

using common::ErrorKind;
using common::MakeError;
using Json = nlohmann::json;

Json Secret(const std::string& name, const std::string& version) {
  return Json{{"apiVersion", "v1"},
              {"kind", "Secret"},
              {"metadata", {{"name", name}, {"namespace", "ns"}, {"resourceVersion", version}}}};
}

// Lists one Secret at version 5, then its watch delivers `events` and idles until stopped.
class ScriptedKube final : public KubeClient {
 public:
  std::vector<WatchEvent> events;
  std::atomic<bool> delivered{false};
  std::atomic<int> stop_polls{0};

  common::Result<Json> Get(const ResourceType&, const std::string&, const std::string&) override {
    return MakeError(ErrorKind::kNotFound, "not found");
  }
  common::Result<ListResult> List(const ResourceType&, const std::string&,
                                  const std::string&) override {
    return ListResult{{Secret("game-tls", "5")}, "5"};
  }
  common::Result<WatchEnd> Watch(const ResourceType&, const std::string&, const std::string&,
                                 const std::string& rv,
                                 const std::function<void(const WatchEvent&)>& on_event,
                                 const std::function<bool()>& stop) override {
    if (!delivered) {
      for (const WatchEvent& event : events) on_event(event);
      delivered = true;
    }
    // Idle like a real watch: the stop callback is asked every few milliseconds (curl's
    // progress callback asks about once a second).
    testing::WaitUntil(
        [&] {
          ++stop_polls;
          return stop();
        },
        std::chrono::hours(1));
    return WatchEnd{false, rv};
  }
  common::Result<Json> Apply(const ResourceType&, const Json& object, bool) override {
    return object;
  }
  common::Result<Json> Create(const ResourceType&, const std::string&,
                              const Json& object) override {
    return object;
  }
  common::Result<Json> Update(const ResourceType&, const Json& object) override { return object; }
  common::Status Delete(const ResourceType&, const std::string&, const std::string&) override {
    return common::Ok{};
  }
  common::Result<bool> Serves(const std::string&, const std::string&) override { return true; }
};

TEST(InformerTest, AWriteResultNeverBringsBackWhatTheWatchSawDeleted) {
  // A reconcile applied game-tls (the server answered version 5); the Secret was deleted
  // (version 7) and the watch delivered that before the reconcile stored its write result.
  ScriptedKube kube;
  kube.events = {WatchEvent{"DELETED", Secret("game-tls", "7")}};
  Informer informer(kube, kinds::kSecret, "ns", "", common::Logger("test"));
  informer.Start();
  ASSERT_TRUE(testing::WaitUntil([&] { return kube.delivered.load(); }));
  ASSERT_FALSE(informer.Get("ns", "game-tls"));

  informer.Upsert(Secret("game-tls", "5"));
  EXPECT_FALSE(informer.Get("ns", "game-tls")) << "a stale write result resurrected the Secret";
  informer.Upsert(Secret("game-tls", "7"));
  EXPECT_FALSE(informer.Get("ns", "game-tls"));

  // Made again after the deletion: that write is news, and is kept.
  informer.Upsert(Secret("game-tls", "9"));
  auto kept = informer.Get("ns", "game-tls");
  ASSERT_TRUE(kept);
  EXPECT_EQ((*kept)["metadata"]["resourceVersion"], "9");
  informer.Stop();
}

TEST(InformerTest, AWriteResultReplacesOnlyAnOlderObject) {
  ScriptedKube kube;
  kube.events = {WatchEvent{"MODIFIED", Secret("game-tls", "8")}};
  Informer informer(kube, kinds::kSecret, "ns", "", common::Logger("test"));
  informer.Start();
  ASSERT_TRUE(testing::WaitUntil([&] { return kube.delivered.load(); }));

  informer.Upsert(Secret("game-tls", "6"));
  EXPECT_EQ((*informer.Get("ns", "game-tls"))["metadata"]["resourceVersion"], "8");
  informer.Upsert(Secret("game-tls", "not-a-number"));
  EXPECT_EQ((*informer.Get("ns", "game-tls"))["metadata"]["resourceVersion"], "8");
  informer.Upsert(Secret("game-tls", "10"));
  EXPECT_EQ((*informer.Get("ns", "game-tls"))["metadata"]["resourceVersion"], "10");
  // A new object the watch has not caught up with yet is stored at once.
  informer.Upsert(Secret("game-ca", "11"));
  EXPECT_TRUE(informer.Get("ns", "game-ca"));
  informer.Stop();
}

// Liveness follows the informer's loop: an idle watch keeps it alive well past the
// allowance, a handler stuck in this process fails it, and it recovers when the handler does.
TEST(InformerTest, AStuckHandlerFailsLivenessAnIdleWatchDoesNot) {
  using Clock = std::chrono::steady_clock;
  ScriptedKube kube;
  kube.events = {WatchEvent{"MODIFIED", Secret("game-tls", "8")}};
  common::Health health;
  constexpr auto kAllowance = std::chrono::milliseconds(100);
  Informer informer(kube, kinds::kSecret, "ns", "", common::Logger("test"));
  informer.SetHeartbeat(health.AddHeartbeat("informer secrets", kAllowance));
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  std::atomic<bool> stuck{false};
  informer.OnChange([&](const Json& object) {
    if (object["metadata"]["resourceVersion"] != "8") return;  // the list's object passes
    stuck = true;
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return release; });
  });
  informer.Start();

  ASSERT_TRUE(testing::WaitUntil([&] { return stuck.load(); }));
  const auto report = [&] { return health.Liveness(); };
  ASSERT_TRUE(testing::WaitUntil([&] { return !report().ready; })) << "a stuck handler went unseen";
  ASSERT_EQ(report().failing.size(), 1u);
  EXPECT_EQ(report().failing[0].rfind("informer secrets: no heartbeat for", 0), 0u)
      << report().failing[0];

  {
    std::lock_guard lock(mu);
    release = true;
  }
  cv.notify_all();
  ASSERT_TRUE(testing::WaitUntil([&] { return kube.delivered.load() && report().ready; }));
  // The watch now idles: alive through at least five allowances of it.
  const auto idle_from = Clock::now();
  bool alive = true;
  testing::WaitUntil([&] {
    alive = alive && report().ready;
    return Clock::now() - idle_from > 5 * kAllowance && kube.stop_polls > 10;
  });
  EXPECT_TRUE(alive) << (report().failing.empty() ? "" : report().failing[0]);
  EXPECT_TRUE(report().ready);

  informer.Stop();  // retired: a stopped informer never fails liveness
  EXPECT_TRUE(health.Liveness(Clock::now() + std::chrono::hours(1)).ready);
}

}  // namespace
}  // namespace holomush::op
