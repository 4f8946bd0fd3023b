// The gRPC client to core: one shared channel (mutual TLS), callback API throughout, and the
// players multiplexed over a few long-lived Gateway streams, so a thousand players cost a
// handle each on those streams and no threads of ours.
#pragma once

#include <grpcpp/channel.h>
#include <grpcpp/security/credentials.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "core_api.hpp"
#include "holomush/core/v1/core.grpc.pb.h"

namespace holomush::gateway {

// Keeps count of calls in flight so shutdown can cancel them and wait until gRPC no longer
// calls back into us. Thread-safe.
class CallTracker {
 public:
  // False once shutting down: the call must not start.
  bool Add(grpc::ClientContext* context);
  void Remove(grpc::ClientContext* context);
  // Cancels every call in flight and refuses new ones.
  void CancelAll();
  // True when no call is in flight within `timeout`.
  bool WaitIdle(std::chrono::milliseconds timeout);
  size_t size() const;

 private:
  mutable std::mutex mu_;
  std::condition_variable idle_;
  std::set<grpc::ClientContext*> calls_;
  bool closed_ = false;
};

class MuxStream;

// Owned by the gateway; outlives every session (it is shut down after them). Sessions are
// given to its `streams` streams in turn; a stream that ends is replaced when the next
// session is opened on its slot.
class GrpcCoreClient final : public CoreApi {
 public:
  // Commands of one session queued towards core beyond this are dropped (a player pasting
  // megabytes).
  static constexpr size_t kMaxQueuedCommands = 512;
  // Deadline of the unary calls (login, who, ...).
  static constexpr std::chrono::seconds kUnaryDeadline{10};

  explicit GrpcCoreClient(std::shared_ptr<grpc::Channel> channel, int streams = 2);
  ~GrpcCoreClient() override;

  // The channel to core: `target` host:port, mutual TLS as `gateway`, and reconnect backoff
  // short enough that a restarted core is found again within about a second.
  static std::shared_ptr<grpc::Channel> MakeChannel(
      const std::string& target, std::shared_ptr<grpc::ChannelCredentials> credentials);

  void CreateAccount(v1::Credentials credentials, Done<v1::LoginReply> done) override;
  void Login(v1::Credentials credentials, Done<v1::LoginReply> done) override;
  void StartSession(v1::StartSessionRequest request, Done<v1::StartSessionReply> done) override;
  void Who(Done<v1::WhoReply> done) override;
  std::shared_ptr<SessionHandle> OpenSession(const v1::OpenSession& open,
                                             std::shared_ptr<SessionReceiver> receiver) override;

  // Cancels everything in flight and waits (up to `timeout`) for gRPC to finish with us.
  void Shutdown(std::chrono::milliseconds timeout);

  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }

 private:
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Game::Stub> stub_;
  CallTracker tracker_;
  std::mutex mu_;  // guards the stream slots
  std::vector<std::shared_ptr<MuxStream>> streams_;
  size_t next_stream_ = 0;
};

}  // namespace holomush::gateway
