#include "events/event_writer.hpp"

#include <chrono>

namespace holomush::core {

EventWriter::EventWriter(EventStore& store, CoreMetrics& metrics, common::Heartbeat* heartbeat,
                         size_t max_batch)
    : store_(store), metrics_(metrics), heartbeat_(heartbeat), max_batch_(max_batch) {}

EventWriter::~EventWriter() { Stop(); }

void EventWriter::Start() {
  thread_ = std::thread([this] { Run(); });
}

void EventWriter::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void EventWriter::Observe(Hooks hooks) { hooks_ = std::move(hooks); }

void EventWriter::Append(EventRecord event, Done done) {
  {
    std::lock_guard lock(mu_);
    if (!stopping_) {
      queue_.push_back({std::move(event), std::move(done)});
      cv_.notify_one();
      return;
    }
  }
  done(common::Error{common::ErrorKind::kUnavailable, "the game is shutting down"}, event);
}

void EventWriter::Run() {
  while (true) {
    std::vector<Pending> batch;
    {
      std::unique_lock lock(mu_);
      while (!stopping_ && queue_.empty()) {
        if (heartbeat_ != nullptr) heartbeat_->Beat();
        cv_.wait_for(lock, std::chrono::seconds(1));
      }
      if (queue_.empty()) {  // stopping and drained
        if (heartbeat_ != nullptr) heartbeat_->Retire();
        return;
      }
      while (!queue_.empty() && batch.size() < max_batch_) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    std::vector<EventRecord> events;
    events.reserve(batch.size());
    const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    for (auto& p : batch) {
      p.event.id = ulids_.NextAt(static_cast<uint64_t>(now));
      p.event.unix_millis = now;
      p.event.payload_json = p.event.payload.dump();
      events.push_back(p.event);
    }
    if (hooks_.prepared) hooks_.prepared(events);
    common::Status status = common::Ok{};
    {
      common::Heartbeat::Outside in_database(heartbeat_);
      status = store_.AppendBatch(events, kEventsChannel);
    }
    if (status) {
      metrics_.BatchCommitted(events.size());
      for (const auto& e : events) metrics_.EventAppended(e.type);
      if (hooks_.committed) hooks_.committed(events);
    } else if (hooks_.aborted) {
      hooks_.aborted(events);
    }
    for (auto& p : batch) {
      if (p.done) p.done(status, p.event);
    }
  }
}

}  // namespace holomush::core
