#include "who_cache.hpp"

namespace holomush::gateway {

WhoCache::WhoCache(CoreApi& core, std::chrono::milliseconds max_age, Clock clock)
    : core_(core),
      max_age_(max_age),
      clock_(clock ? std::move(clock) : Clock([] { return std::chrono::steady_clock::now(); })) {}

void WhoCache::Who(Done<v1::WhoReply> done) {
  std::optional<v1::WhoReply> reply;
  {
    std::lock_guard lock(mu_);
    if (kept_ && clock_() - kept_at_ < max_age_) {
      reply = *kept_;
    } else {
      waiting_.push_back(std::move(done));
      if (waiting_.size() > 1) return;  // core is being asked already
    }
  }
  if (reply) {
    done(grpc::Status::OK, std::move(*reply));
    return;
  }
  core_.Who([this](const grpc::Status& status, v1::WhoReply answer) {
    OnReply(status, std::move(answer));
  });
}

void WhoCache::OnReply(const grpc::Status& status, v1::WhoReply reply) {
  std::vector<Done<v1::WhoReply>> waiting;
  {
    std::lock_guard lock(mu_);
    if (status.ok()) {
      kept_ = reply;
      kept_at_ = clock_();
    }
    waiting.swap(waiting_);
  }
  for (auto& done : waiting) done(status, reply);
}

}  // namespace holomush::gateway
