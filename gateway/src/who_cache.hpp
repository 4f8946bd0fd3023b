// Pre-login `who` answered from one shared reply: however many connections ask, core is asked
// at most once per `max_age` by this gateway.
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <vector>

#include "core_api.hpp"

namespace holomush::gateway {

// A CoreApi that passes everything to `core` but Who, which it answers from the last reply
// while it is younger than `max_age`; callers that ask while core is being asked wait for
// that same answer. Failures are passed on, never kept. Thread-safe; `done` runs on core's
// completion thread or, for a kept reply, on the caller's.
class WhoCache final : public CoreApi {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;
  WhoCache(CoreApi& core, std::chrono::milliseconds max_age, Clock clock = {});

  void CreateAccount(v1::Credentials credentials, Done<v1::LoginReply> done) override {
    core_.CreateAccount(std::move(credentials), std::move(done));
  }
  void Login(v1::Credentials credentials, Done<v1::LoginReply> done) override {
    core_.Login(std::move(credentials), std::move(done));
  }
  void StartSession(v1::StartSessionRequest request, Done<v1::StartSessionReply> done) override {
    core_.StartSession(std::move(request), std::move(done));
  }
  std::shared_ptr<SessionHandle> OpenSession(const v1::OpenSession& open,
                                             std::shared_ptr<SessionReceiver> receiver) override {
    return core_.OpenSession(open, std::move(receiver));
  }
  void Who(Done<v1::WhoReply> done) override;

 private:
  void OnReply(const grpc::Status& status, v1::WhoReply reply);

  CoreApi& core_;
  std::chrono::milliseconds max_age_;
  Clock clock_;
  std::mutex mu_;
  std::optional<v1::WhoReply> kept_;
  std::chrono::steady_clock::time_point kept_at_;
  std::vector<Done<v1::WhoReply>> waiting_;  // non-empty exactly while core is being asked
};

}  // namespace holomush::gateway
