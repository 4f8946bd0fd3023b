// NOTIFY payloads: a group commit of up to 512 events announces its ids in as many
// payloads as PostgreSQL's 8000-byte limit needs, none lost, none repeated, order kept.
#include <gtest/gtest.h>

#include "holomush/common/ulid.hpp"
#include "store/pg_store.hpp"

namespace holomush::core {
namespace {

std::vector<EventRecord> Events(size_t n) {
  common::UlidGenerator ids;
  std::vector<EventRecord> events(n);
  for (auto& e : events) e.id = ids.Next();
  return events;
}

std::vector<std::string> Split(const std::string& payload) {
  std::vector<std::string> ids;
  size_t start = 0;
  for (size_t comma; (comma = payload.find(',', start)) != std::string::npos; start = comma + 1) {
    ids.push_back(payload.substr(start, comma - start));
  }
  ids.push_back(payload.substr(start));
  return ids;
}

TEST(NotifyPayloadsTest, TheLargestBatchSplitsUnderTheLimitWithEveryIdOnceInOrder) {
  const auto events = Events(512);
  const auto payloads = NotifyPayloads(events);
  // 26-byte ULIDs and commas: 296 fit in 7,900 bytes, so 512 need two payloads.
  ASSERT_EQ(payloads.size(), 2u);
  std::vector<std::string> seen;
  for (const auto& p : payloads) {
    EXPECT_LT(p.size(), 8000u);
    for (auto& id : Split(p)) seen.push_back(std::move(id));
  }
  ASSERT_EQ(seen.size(), events.size());
  for (size_t i = 0; i < events.size(); ++i) EXPECT_EQ(seen[i], events[i].id) << "at " << i;
}

TEST(NotifyPayloadsTest, ChunksFillUpToTheLimitExactly) {
  const auto events = Events(10);
  // Two ids and a comma are 53 bytes.
  const auto payloads = NotifyPayloads(events, 53);
  ASSERT_EQ(payloads.size(), 5u);
  for (const auto& p : payloads) EXPECT_EQ(p.size(), 53u);
  EXPECT_EQ(NotifyPayloads(events, 52).size(), 10u);
}

TEST(NotifyPayloadsTest, NoEventsNoPayload) { EXPECT_TRUE(NotifyPayloads({}).empty()); }

}  // namespace
}  // namespace holomush::core
