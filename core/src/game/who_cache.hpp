// `who` answered from one shared reply: however many sessions ask, PostgreSQL is asked at most
// once per `max_age` by this core process, and at once again after a local session connects,
// detaches or ends.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <vector>

#include "store/store.hpp"

namespace holomush::core {

// Thread-safe. A caller that finds the reply too old asks `query` while the others wait for
// that same answer; failures are passed on, never kept. A Forget while a query runs keeps
// that query's answer from being kept, since it may predate the change.
class WhoCache {
 public:
  using Rows = std::vector<WhoRow>;
  using Query = std::function<Result<Rows>()>;
  using Clock = std::function<std::chrono::steady_clock::time_point()>;
  WhoCache(Query query, std::chrono::milliseconds max_age, Clock clock = {});

  Result<Rows> Get();
  // Who is connected has changed here: the next Get asks again.
  void Forget();

 private:
  std::optional<Rows> Kept();

  Query query_;
  std::chrono::milliseconds max_age_;
  Clock clock_;
  std::mutex asking_;  // held by the one caller asking `query`
  std::mutex mu_;      // guards what follows
  std::optional<Rows> kept_;
  std::chrono::steady_clock::time_point kept_at_;
  uint64_t generation_ = 0;  // bumped by Forget
};

}  // namespace holomush::core
