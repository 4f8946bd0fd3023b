// The event writer's group commit against a real PostgreSQL: what queues behind a commit
// that cannot finish leaves in batches of at most 512, in the order it was appended; a batch
// commits while the one before it is still being delivered.
#include "events/event_writer.hpp"

#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include <algorithm>
#include <atomic>
#include <latch>
#include <mutex>
#include <pqxx/pqxx>
#include <set>

#include "core_metrics.hpp"
#include "db_helpers.hpp"
#include "store/database.hpp"
#include "store/migrations.hpp"
#include "store/pg_store.hpp"
#include "support/postgres.hpp"
#include "support/wait.hpp"

namespace holomush::core {
namespace {

using namespace std::chrono_literals;

// A migrated database of its own, a store on it, and an event writer not yet started.
class EventWriterDbTest : public ::testing::Test {
 protected:
  static std::string Migrated(const std::string& url) {
    pqxx::connection conn(url);
    MigrateUp(conn);
    return url;
  }
  const std::string url_ = Migrated(testing::FreshDatabase("writer"));
  Database db_{url_, 4, 10s};
  PgStore store_{db_};
  prometheus::Registry registry_;
  CoreMetrics metrics_{registry_};
  EventWriter writer_{store_, metrics_};
};

TEST_F(EventWriterDbTest, AQueueBehindABlockedCommitLeavesInBatchesOfAtMost512InOrder) {
  std::mutex mu;
  std::vector<size_t> batches;
  writer_.Observe({.prepared = {},
                   .committed =
                       [&](const std::vector<EventRecord>& batch) {
                         std::lock_guard lock(mu);
                         batches.push_back(batch.size());
                       },
                   .aborted = {}});
  writer_.Start();

  // Nothing can be inserted until the test lets go: everything appended meanwhile queues.
  pqxx::connection blocker(url_);
  pqxx::work hold(blocker);
  hold.exec("LOCK TABLE events IN ACCESS EXCLUSIVE MODE");
  constexpr int kEvents = 1200;
  std::vector<std::string> ids(kEvents);
  std::atomic<int> done{0};
  std::atomic<int> failed{0};
  for (int i = 0; i < kEvents; ++i) {
    EventRecord e;
    e.stream = "test:batch";
    e.type = "emit";
    e.payload = {{"n", i}};
    writer_.Append(std::move(e), [&, i](const common::Status& status, const EventRecord& record) {
      if (!status) ++failed;
      ids[i] = record.id;
      ++done;
    });
  }
  hold.commit();
  ASSERT_TRUE(testing::WaitUntil([&] { return done == kEvents; }, 60s)) << done;
  writer_.Stop();
  EXPECT_EQ(failed, 0);

  std::lock_guard lock(mu);
  size_t total = 0;
  for (size_t b : batches) total += b;
  EXPECT_EQ(total, static_cast<size_t>(kEvents));
  // At most one batch left before the lock (whatever was queued then); at least 688 waited
  // behind it, so the next batch is full.
  EXPECT_EQ(*std::max_element(batches.begin(), batches.end()), 512u);
  EXPECT_GE(batches.size(), 3u);
  // Ids in the order of Append, each once, and every row in the table.
  EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), ids.size());
  EXPECT_EQ(testing::QueryOne(url_, "SELECT count(*) FROM events WHERE stream = 'test:batch'"),
            std::to_string(kEvents));
  // What the histogram says of them.
  for (const auto& family : registry_.Collect()) {
    if (family.name != "holomush_event_append_batch_size") continue;
    ASSERT_EQ(family.metric.size(), 1u);
    EXPECT_EQ(family.metric[0].histogram.sample_count, batches.size());
    EXPECT_EQ(family.metric[0].histogram.sample_sum, static_cast<double>(kEvents));
  }
}

// The delivery of one batch (the listen hub rendering it for every session) does not hold
// up the next commit: while the first batch's `committed` hook is still running, the second
// batch's row is already in the table. Hooks and `done`s still come batch by batch in order.
TEST_F(EventWriterDbTest, TheNextBatchCommitsWhileTheLastIsDelivered) {
  std::mutex mu;
  std::vector<std::string> seen;  // "committed N" and "done N", in the order they ran
  std::latch first_delivering(1);
  std::atomic<bool> second_in_table_meanwhile{false};
  const auto rows = [&] {
    return testing::QueryOne(url_, "SELECT count(*) FROM events WHERE stream = 'test:pipe'");
  };
  writer_.Observe({.prepared = {},
                   .committed =
                       [&](const std::vector<EventRecord>& batch) {
                         const auto n = batch.front().payload_json;
                         {
                           std::lock_guard lock(mu);
                           seen.push_back("committed " + n);
                         }
                         if (n != "{\"n\":1}") return;
                         first_delivering.count_down();
                         second_in_table_meanwhile =
                             testing::WaitUntil([&] { return rows() == "2"; }, 20s);
                       },
                   .aborted = {}});
  writer_.Start();
  std::atomic<int> done{0};
  const auto append = [&](int n) {
    EventRecord e;
    e.stream = "test:pipe";
    e.type = "emit";
    e.payload = {{"n", n}};
    writer_.Append(std::move(e), [&, n](const common::Status& status, const EventRecord&) {
      std::lock_guard lock(mu);
      seen.push_back((status ? "done " : "failed ") + std::to_string(n));
      ++done;
    });
  };
  append(1);
  first_delivering.wait();
  append(2);
  ASSERT_TRUE(testing::WaitUntil([&] { return done == 2; }, 60s)) << done;
  writer_.Stop();
  EXPECT_TRUE(second_in_table_meanwhile) << "the second batch waited for the first's delivery";
  std::lock_guard lock(mu);
  EXPECT_EQ(seen, (std::vector<std::string>{"committed {\"n\":1}", "done 1", "committed {\"n\":2}",
                                            "done 2"}));
}

}  // namespace
}  // namespace holomush::core
