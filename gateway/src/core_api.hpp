// What the gateway needs from core, as an interface: the gRPC client implements it, and unit
// tests put a fake behind it.
#pragma once

#include <grpcpp/support/status.h>

#include <functional>
#include <memory>
#include <string>

#include "holomush/core/v1/core.pb.h"

namespace holomush::gateway {

namespace v1 = ::holomush::core::v1;

// One message from core. An event core sent once for many sessions of this gateway is read
// by all of them from the one copy.
using SharedServerMessage = std::shared_ptr<const v1::ServerMessage>;

// Receives one session's messages (opened, output, event, closed), then exactly one OnDone:
// OK after `closed`, the refusal's code when core refused or took the session away, CANCELLED
// after Cancel, or the status of the shared stream when it ended under the session. Called
// on gRPC's threads (never two at once for one session); implementations hand the work to
// their own strand.
class SessionReceiver {
 public:
  virtual ~SessionReceiver() = default;
  virtual void OnMessage(SharedServerMessage message) = 0;
  virtual void OnDone(const grpc::Status& status) = 0;
};

// One open session on a stream to core (which may carry many). Thread-safe. Sends after the
// session has ended are dropped.
class SessionHandle {
 public:
  virtual ~SessionHandle() = default;
  // Sends a `command`; commands leave in the order of the calls. False when the line was
  // dropped: the session has ended or too many of its lines wait for core already.
  virtual bool SendCommand(std::string line) = 0;
  // Detaches the session from our side (the player left; core keeps it lingering); OnDone
  // follows with CANCELLED.
  virtual void Cancel() = 0;
};

// Thread-safe. Completions run on an unspecified thread.
class CoreApi {
 public:
  template <typename Reply>
  using Done = std::function<void(const grpc::Status&, Reply)>;

  virtual ~CoreApi() = default;
  virtual void CreateAccount(v1::Credentials credentials, Done<v1::LoginReply> done) = 0;
  virtual void Login(v1::Credentials credentials, Done<v1::LoginReply> done) = 0;
  virtual void StartSession(v1::StartSessionRequest request, Done<v1::StartSessionReply> done) = 0;
  virtual void Who(Done<v1::WhoReply> done) = 0;
  // Opens (or resumes) a session on one of the streams to core.
  virtual std::shared_ptr<SessionHandle> OpenSession(const v1::OpenSession& open,
                                                     std::shared_ptr<SessionReceiver> receiver) = 0;
};

}  // namespace holomush::gateway
