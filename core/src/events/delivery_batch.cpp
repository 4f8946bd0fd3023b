#include "events/delivery_batch.hpp"

namespace holomush::core {
namespace {

thread_local DeliveryBatch* open_batch = nullptr;

}  // namespace

DeliveryBatch::DeliveryBatch() : outermost_(open_batch == nullptr) {
  if (outermost_) open_batch = this;
}

DeliveryBatch::~DeliveryBatch() {
  if (!outermost_) return;
  open_batch = nullptr;  // a flush that delivers more writes at once
  for (auto& flush : flushes_) flush();
}

bool DeliveryBatch::Defer(std::function<void()> flush) {
  if (open_batch == nullptr) return false;
  open_batch->flushes_.push_back(std::move(flush));
  return true;
}

}  // namespace holomush::core
