// Group commit: concurrent appends share one transaction and one NOTIFY.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "core_metrics.hpp"
#include "holomush/common/health.hpp"
#include "holomush/common/ulid.hpp"
#include "store/store.hpp"

namespace holomush::core {

inline constexpr const char* kEventsChannel = "holomush_events";

// Owns one writer thread. Append() queues; the thread takes everything queued (up to
// max_batch), assigns ULIDs in queue order, inserts them and NOTIFYs in one transaction,
// then calls each `done`. Under light load a batch is one event; under load it grows, which
// is what lifts throughput past PostgreSQL's serialised NOTIFY-at-commit.
class EventWriter {
 public:
  using Done = std::function<void(const common::Status&, const EventRecord&)>;

  // `heartbeat` (optional) is beaten at least once a second while the thread runs; the time
  // in the database is outside it.
  EventWriter(EventStore& store, CoreMetrics& metrics, common::Heartbeat* heartbeat = nullptr,
              size_t max_batch = 512);
  ~EventWriter();

  void Start();
  // Writes what is queued, then stops.
  void Stop();
  void Append(EventRecord event, Done done);
  using BatchHook = std::function<void(const std::vector<EventRecord>&)>;
  struct Hooks {
    BatchHook prepared;   // each batch, ids assigned, just before it is written
    BatchHook committed;  // after its commit, before the `done` callbacks
    BatchHook aborted;    // when it failed
  };
  // The listen hub delivers this process's own events as soon as they are committed,
  // without waiting for (or reading back) their notification. Set before Start().
  void Observe(Hooks hooks);

 private:
  void Run();
  struct Pending {
    EventRecord event;
    Done done;
  };
  EventStore& store_;
  CoreMetrics& metrics_;
  common::Heartbeat* heartbeat_;
  size_t max_batch_;
  common::UlidGenerator ulids_;
  Hooks hooks_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace holomush::core
