#include "output_queue.hpp"

#include <utility>

namespace holomush::gateway {

bool OutputQueue::Append(std::string_view bytes) {
  if (size() + bytes.size() > limit_) return false;
  pending_.append(bytes);
  return true;
}

const std::string& OutputQueue::BeginWrite() {
  in_flight_.clear();
  std::swap(in_flight_, pending_);
  writing_ = true;
  // Keep the buffers from holding on to the capacity of one huge burst forever.
  if (pending_.capacity() > 64 * 1024) pending_ = std::string();
  return in_flight_;
}

void OutputQueue::Written() {
  writing_ = false;
  in_flight_.clear();
  if (in_flight_.capacity() > 64 * 1024) in_flight_ = std::string();
}

}  // namespace holomush::gateway
