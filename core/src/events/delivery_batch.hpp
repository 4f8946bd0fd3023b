// Deliveries made together: every recipient of a group of committed events.
#pragma once

#include <functional>
#include <vector>

namespace holomush::core {

// Open on one thread for the span of a delivery. A transport that writes per stream (one
// gateway stream carries many sessions) defers starting its write to the batch's end, so
// everything delivered inside leaves in one write per stream, and an event for many sessions
// of one gateway in one frame. Batches opened inside an open batch join it.
class DeliveryBatch {
 public:
  DeliveryBatch();
  ~DeliveryBatch();  // runs the deferred flushes, in the order they were deferred
  DeliveryBatch(const DeliveryBatch&) = delete;
  DeliveryBatch& operator=(const DeliveryBatch&) = delete;

  // With a batch open on this thread: keeps `flush` for its end and returns true. Without
  // one: returns false, and the caller writes at once. `flush` must not throw.
  static bool Defer(std::function<void()> flush);

 private:
  bool outermost_;
  std::vector<std::function<void()>> flushes_;
};

}  // namespace holomush::core
