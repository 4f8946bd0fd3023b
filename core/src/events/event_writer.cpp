#include "events/event_writer.hpp"

#include <chrono>

#include "holomush/common/thread_name.hpp"

namespace holomush::core {

EventWriter::EventWriter(EventStore& store, CoreMetrics& metrics,
                         common::Heartbeat* writer_heartbeat, common::Heartbeat* delivery_heartbeat,
                         size_t max_batch)
    : store_(store),
      metrics_(metrics),
      writer_heartbeat_(writer_heartbeat),
      delivery_heartbeat_(delivery_heartbeat),
      max_batch_(max_batch) {}

EventWriter::~EventWriter() { Stop(); }

void EventWriter::Start() {
  delivery_ = std::thread([this] {
    common::NameThisThread("holomush-fanout");
    Deliver();
  });
  writer_ = std::thread([this] {
    common::NameThisThread("holomush-writer");
    Write();
  });
}

void EventWriter::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (writer_.joinable()) writer_.join();
  if (delivery_.joinable()) delivery_.join();
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

namespace {

void BeatIf(common::Heartbeat* heartbeat) {
  if (heartbeat != nullptr) heartbeat->Beat();
}

}  // namespace

void EventWriter::Write() {
  while (true) {
    std::vector<Pending> batch;
    {
      std::unique_lock lock(mu_);
      while (!stopping_ && queue_.empty()) {
        BeatIf(writer_heartbeat_);
        cv_.wait_for(lock, std::chrono::seconds(1));
      }
      if (queue_.empty()) break;  // stopping and drained
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
      common::Heartbeat::Outside in_database(writer_heartbeat_);
      status = store_.AppendBatch(events, kEventsChannel);
    }
    if (status) {
      metrics_.BatchCommitted(events.size());
      for (const auto& e : events) metrics_.EventAppended(e.type);
    }
    HandOff({std::move(batch), std::move(events), std::move(status)});
    BeatIf(writer_heartbeat_);
  }
  if (writer_heartbeat_ != nullptr) writer_heartbeat_->Retire();
  {
    std::lock_guard lock(written_mu_);
    writer_done_ = true;
  }
  written_cv_.notify_all();
}

void EventWriter::HandOff(Written written) {
  {
    std::unique_lock lock(written_mu_);
    while (written_.size() >= kMaxUndelivered) {
      BeatIf(writer_heartbeat_);
      written_cv_.wait_for(lock, std::chrono::seconds(1));
    }
    written_.push_back(std::move(written));
  }
  written_cv_.notify_all();
}

void EventWriter::Deliver() {
  while (true) {
    Written next;
    {
      std::unique_lock lock(written_mu_);
      while (!writer_done_ && written_.empty()) {
        BeatIf(delivery_heartbeat_);
        written_cv_.wait_for(lock, std::chrono::seconds(1));
      }
      if (written_.empty()) break;  // the writer has stopped and all it wrote is delivered
      next = std::move(written_.front());
      written_.pop_front();
    }
    written_cv_.notify_all();  // the writer may be waiting for room
    if (next.status) {
      if (hooks_.committed) hooks_.committed(next.events);
    } else if (hooks_.aborted) {
      hooks_.aborted(next.events);
    }
    for (auto& p : next.batch) {
      if (p.done) p.done(next.status, p.event);
    }
    BeatIf(delivery_heartbeat_);
  }
  if (delivery_heartbeat_ != nullptr) delivery_heartbeat_->Retire();
}

}  // namespace holomush::core
