#include "holomush/common/recent_ids.hpp"

#include <algorithm>

namespace holomush::common {

RecentIds::Id RecentIds::Pack(std::string_view id) {
  Id packed{};
  std::copy_n(id.begin(), std::min(id.size(), packed.size()), packed.begin());
  return packed;
}

bool RecentIds::Contains(std::string_view id) const {
  const Id packed = Pack(id);
  if (ring_.empty() || newest_ < packed) return false;
  return std::find(ring_.begin(), ring_.end(), packed) != ring_.end();
}

bool RecentIds::Insert(std::string_view id) {
  if (Contains(id)) return false;
  if (capacity_ == 0) return true;  // remembers nothing
  const Id packed = Pack(id);
  if (newest_ < packed) newest_ = packed;
  if (ring_.size() < capacity_) {
    ring_.push_back(packed);
  } else {
    ring_[next_] = packed;
    next_ = (next_ + 1) % capacity_;
  }
  return true;
}

void RecentIds::Clear() {
  ring_.clear();
  ring_.shrink_to_fit();
  next_ = 0;
  newest_ = Id{};
}

}  // namespace holomush::common
