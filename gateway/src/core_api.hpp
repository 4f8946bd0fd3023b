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

// Receives one Session stream's messages, then exactly one OnDone. Called on gRPC's threads
// (never two at once for one stream); implementations hand the work to their own strand.
class SessionStreamHandler {
 public:
  virtual ~SessionStreamHandler() = default;
  virtual void OnMessage(v1::ServerMessage message) = 0;
  virtual void OnDone(const grpc::Status& status) = 0;
};

// One open Session stream. Thread-safe. Sends after the stream has ended are dropped.
class SessionStream {
 public:
  virtual ~SessionStream() = default;
  // Sends a `command` message; messages leave in the order of the calls. False when the
  // line was dropped: the stream has ended or too many lines wait for core already.
  virtual bool SendCommand(std::string line) = 0;
  // Ends the stream from our side (the player left); OnDone follows.
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
  // Opens a stream and sends `open` as its first message.
  virtual std::shared_ptr<SessionStream> OpenSession(
      const v1::OpenSession& open, std::shared_ptr<SessionStreamHandler> handler) = 0;
};

}  // namespace holomush::gateway
