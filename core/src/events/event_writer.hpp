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

// Owns two threads. Append() queues; the writer thread takes everything queued (up to
// max_batch), assigns ULIDs in queue order, inserts them and NOTIFYs in one transaction, and
// hands the committed batch to the delivery thread, which runs the `committed` hook (the
// listen hub's delivery to this process's sessions) and then each `done`, batch after batch
// in commit order. So the next batch commits while the last one is delivered; at most two
// committed batches wait for delivery before the writer waits too. Under light load a batch
// is one event; under load it grows, which is what lifts throughput past PostgreSQL's
// serialised NOTIFY-at-commit.
class EventWriter {
 public:
  using Done = std::function<void(const common::Status&, const EventRecord&)>;

  // The heartbeats (optional) are beaten at least once a second while their thread runs;
  // the writer's time in the database is outside its heartbeat.
  EventWriter(EventStore& store, CoreMetrics& metrics,
              common::Heartbeat* writer_heartbeat = nullptr,
              common::Heartbeat* delivery_heartbeat = nullptr, size_t max_batch = 512);
  ~EventWriter();

  void Start();
  // Writes and delivers what is queued, then stops.
  void Stop();
  void Append(EventRecord event, Done done);
  using BatchHook = std::function<void(const std::vector<EventRecord>&)>;
  struct Hooks {
    BatchHook prepared;   // each batch, ids assigned, just before it is written (writer thread)
    BatchHook committed;  // after its commit, before the `done` callbacks (delivery thread)
    BatchHook aborted;    // when it failed, before the `done` callbacks (delivery thread)
  };
  // The listen hub delivers this process's own events as soon as they are committed,
  // without waiting for (or reading back) their notification. Set before Start().
  void Observe(Hooks hooks);

 private:
  struct Pending {
    EventRecord event;
    Done done;
  };
  struct Written {
    std::vector<Pending> batch;
    std::vector<EventRecord> events;
    common::Status status = common::Ok{};
  };
  static constexpr size_t kMaxUndelivered = 2;

  void Write();
  void Deliver();
  // Waits (beating the writer's heartbeat) while kMaxUndelivered batches wait for delivery.
  void HandOff(Written written);

  EventStore& store_;
  CoreMetrics& metrics_;
  common::Heartbeat* writer_heartbeat_;
  common::Heartbeat* delivery_heartbeat_;
  size_t max_batch_;
  common::UlidGenerator ulids_;
  Hooks hooks_;

  std::mutex mu_;  // queue_ and stopping_
  std::condition_variable cv_;
  std::deque<Pending> queue_;
  bool stopping_ = false;

  std::mutex written_mu_;  // written_ and writer_done_
  std::condition_variable written_cv_;
  std::deque<Written> written_;
  bool writer_done_ = false;

  std::thread writer_;
  std::thread delivery_;
};

}  // namespace holomush::core
