#include "holomush/operator/leader_election.hpp"

#include <chrono>

namespace holomush::op {

using nlohmann::json;
using std::chrono::steady_clock;

namespace {
std::string MicroNow() {
  const auto now = std::chrono::system_clock::now();
  const auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(micros / 1000000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  char out[80];
  std::snprintf(out, sizeof(out), "%s.%06ldZ", buf, static_cast<long>(micros % 1000000));
  return out;
}
}  // namespace

LeaderElector::LeaderElector(KubeClient& client, LeaderElectionOptions options, common::Logger log)
    : client_(client), options_(std::move(options)), log_(std::move(log)) {}

bool LeaderElector::Sleep(std::chrono::milliseconds duration) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, duration, [this] { return stop_; });
}

void LeaderElector::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
}

LeaderElector::Attempt LeaderElector::TryAcquireOrRenew() {
  // A Lease we cannot read as expected is a failed attempt, never an exception on the
  // election thread.
  try {
    return TryAcquireOrRenewOnce();
  } catch (const std::exception& e) {
    log_.Warn("lease attempt failed", {{"error", e.what()}});
    return Attempt::kError;
  }
}

LeaderElector::Attempt LeaderElector::TryAcquireOrRenewOnce() {
  const int duration_s = static_cast<int>(
      std::chrono::duration_cast<std::chrono::seconds>(options_.lease_duration).count());
  auto current = client_.Get(kinds::kLease, options_.ns, options_.name);
  if (!current.ok() && current.error().kind != common::ErrorKind::kNotFound) {
    log_.Warn("reading the lease failed", {{"error", current.error().message}});
    return Attempt::kError;
  }
  const std::string now = MicroNow();
  if (!current.ok()) {
    json lease = {{"apiVersion", "coordination.k8s.io/v1"},
                  {"kind", "Lease"},
                  {"metadata", {{"name", options_.name}, {"namespace", options_.ns}}},
                  {"spec",
                   {{"holderIdentity", options_.identity},
                    {"leaseDurationSeconds", duration_s},
                    {"acquireTime", now},
                    {"renewTime", now},
                    {"leaseTransitions", 0}}}};
    auto created = client_.Create(kinds::kLease, options_.ns, lease);
    if (!created.ok()) return Attempt::kError;  // someone else created it first
    observed_ = created.value();
    observed_at_ = steady_clock::now();
    return Attempt::kAcquired;
  }

  json lease = current.value();
  json spec = lease.value("spec", json::object());
  const std::string holder = spec.value("holderIdentity", "");
  const std::string record = spec.dump();
  if (record != observed_record_) {
    observed_record_ = record;
    observed_at_ = steady_clock::now();
  }
  const auto lease_for = std::chrono::seconds(spec.value("leaseDurationSeconds", duration_s));
  const bool held_by_other = !holder.empty() && holder != options_.identity;
  if (held_by_other && steady_clock::now() < observed_at_ + lease_for) return Attempt::kHeldByOther;

  if (holder != options_.identity) {
    spec["acquireTime"] = now;
    spec["leaseTransitions"] = spec.value("leaseTransitions", 0) + 1;
  }
  spec["holderIdentity"] = options_.identity;
  spec["leaseDurationSeconds"] = duration_s;
  spec["renewTime"] = now;
  lease["spec"] = spec;
  auto updated = client_.Update(kinds::kLease, lease);  // carries resourceVersion: CAS
  if (!updated.ok()) {
    if (updated.error().kind != common::ErrorKind::kConflict) {
      log_.Warn("writing the lease failed", {{"error", updated.error().message}});
    }
    return Attempt::kError;
  }
  observed_record_ = updated.value().value("spec", json::object()).dump();
  observed_at_ = steady_clock::now();
  return Attempt::kAcquired;
}

void LeaderElector::Release() {
  try {
    ReleaseOnce();
  } catch (const std::exception& e) {
    log_.Warn("releasing the lease failed", {{"error", e.what()}});  // it expires anyway
  }
}

void LeaderElector::ReleaseOnce() {
  auto current = client_.Get(kinds::kLease, options_.ns, options_.name);
  if (!current.ok()) return;
  json lease = current.value();
  if (lease["spec"].value("holderIdentity", "") != options_.identity) return;
  // What client-go does on ReleaseOnCancel: an empty holder and a 1 s lease.
  lease["spec"]["holderIdentity"] = "";
  lease["spec"]["leaseDurationSeconds"] = 1;
  lease["spec"]["renewTime"] = MicroNow();
  auto updated = client_.Update(kinds::kLease, lease);
  if (updated.ok()) log_.Info("released the lease", {{"lease", options_.ns + "/" + options_.name}});
}

void LeaderElector::Run(const std::function<void()>& on_started,
                        const std::function<void(bool)>& on_stopped_by_caller) {
  auto beat = [this] {
    if (heartbeat_ != nullptr) heartbeat_->Beat();
  };
  auto on_stopped = [&](bool clean) {
    if (heartbeat_ != nullptr) heartbeat_->Retire();
    on_stopped_by_caller(clean);
  };
  // A renewal counts from when its attempt began: the Lease was written after that, so
  // another replica cannot see it expire sooner than lease_duration from then.
  auto attempt_began = steady_clock::now();
  // Acquire.
  bool logged_waiting = false;
  while (true) {
    beat();
    attempt_began = steady_clock::now();
    if (TryAcquireOrRenew() == Attempt::kAcquired) break;
    if (!logged_waiting) {
      log_.Info("waiting for the lease", {{"lease", options_.ns + "/" + options_.name}});
      logged_waiting = true;
    }
    if (Sleep(options_.retry_period)) {
      on_stopped(true);
      return;
    }
  }
  leading_ = true;
  log_.Info("became leader", {{"identity", options_.identity}});
  on_started();

  // Renew. The deadline is checked before each attempt as well as after it, so the leader
  // stops within renew_deadline + one attempt of its last renewal: no attempt starts once
  // the deadline has passed.
  auto renewed = attempt_began;
  auto past_deadline = [&] { return steady_clock::now() - renewed >= options_.renew_deadline; };
  while (true) {
    beat();
    if (Sleep(options_.retry_period)) {
      leading_ = false;
      Release();
      on_stopped(true);
      return;
    }
    if (!past_deadline()) {
      attempt_began = steady_clock::now();
      if (TryAcquireOrRenew() == Attempt::kAcquired) {
        renewed = attempt_began;
        continue;
      }
    }
    if (past_deadline()) {
      leading_ = false;
      log_.Error("lost the lease: could not renew within the deadline",
                 {{"identity", options_.identity}});
      on_stopped(false);
      return;
    }
  }
}

}  // namespace holomush::op
