// The bytes waiting to be written to one client, bounded, handed to the socket in bursts.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace holomush::gateway {

// Owned by one connection, used on its strand. Everything appended while a write is in
// flight goes out in the next single write, so a burst of events costs one syscall. The
// limit counts the bytes in flight too: a client that stops reading hits it and is dropped
// instead of growing our memory.
class OutputQueue {
 public:
  explicit OutputQueue(size_t limit) : limit_(limit) {}

  // Queues what `fill(std::string&)` appends to the pending bytes, made in place rather than
  // in a string of its own; false (and nothing queued) when that exceeds the limit.
  template <typename Fill>
  bool AppendWith(Fill&& fill) {
    const size_t before = pending_.size();
    fill(pending_);
    if (size() <= limit_) return true;
    pending_.resize(before);
    return false;
  }
  // Queues `bytes` as they are (AppendWith for bytes already made).
  bool Append(std::string_view bytes) {
    return AppendWith([bytes](std::string& out) { out.append(bytes); });
  }
  // True when a write should start: nothing is in flight and something is pending.
  bool ReadyToWrite() const { return !writing_ && !pending_.empty(); }
  // Moves every pending byte into the in-flight buffer and returns it; the buffer stays
  // valid until Written().
  const std::string& BeginWrite();
  // The in-flight write finished.
  void Written();

  bool writing() const { return writing_; }
  bool empty() const { return pending_.empty() && !writing_; }
  size_t size() const { return pending_.size() + in_flight_.size(); }
  size_t limit() const { return limit_; }

 private:
  size_t limit_;
  std::string pending_;
  std::string in_flight_;
  bool writing_ = false;
};

}  // namespace holomush::gateway
