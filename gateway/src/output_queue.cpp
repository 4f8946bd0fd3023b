#include "output_queue.hpp"

#include <utility>

namespace holomush::gateway {
namespace {

// Enough for a typical line or two; larger bursts allocate for themselves.
constexpr size_t kRetainedCapacity = 256;

}  // namespace

const std::string& OutputQueue::BeginWrite() {
  in_flight_.clear();
  std::swap(in_flight_, pending_);
  writing_ = true;
  // An idle connection should cost little: buffers do not keep the capacity of past bursts.
  if (pending_.capacity() > kRetainedCapacity) pending_ = std::string();
  return in_flight_;
}

void OutputQueue::Written() {
  writing_ = false;
  in_flight_.clear();
  if (in_flight_.capacity() > kRetainedCapacity) in_flight_ = std::string();
}

}  // namespace holomush::gateway
