#include "service/grpc_service.hpp"

#include <boost/asio/post.hpp>
#include <deque>
#include <mutex>

#include "holomush/common/version.hpp"

namespace holomush::core {
namespace {

using common::ErrorKind;

// A gateway that stops reading its stream gets cut off rather than growing our memory.
constexpr size_t kMaxQueuedMessages = 4096;

// The reactor's state, shared with the session (as its sink) and with pending callbacks.
// `stream` is cleared in OnDone; every call into the reactor goes through here under `mu`
// (recursive: gRPC may run a reaction inline).
class StreamSink final : public SessionSink {
 public:
  using Reactor = grpc::ServerBidiReactor<pb::ClientMessage, pb::ServerMessage>;

  StreamSink(Reactor* stream, pb::ClientMessage* in) : stream_(stream), in_(in) {}

  // The session this stream is attached to, once open succeeded; cleared by OnDone.
  void SetSession(std::shared_ptr<CoreSession> session) {
    std::lock_guard lock(mu_);
    if (stream_ != nullptr) session_ = std::move(session);
  }
  std::shared_ptr<CoreSession> session() {
    std::lock_guard lock(mu_);
    return session_;
  }

  void Send(pb::ServerMessage message) override {
    std::lock_guard lock(mu_);
    if (stream_ == nullptr || finishing_) return;
    if (queue_.size() >= kMaxQueuedMessages) {
      FinishLocked(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "stream not being read"));
      return;
    }
    queue_.push_back(std::move(message));
    if (!writing_) {
      writing_ = true;
      stream_->StartWrite(&queue_.front());
    }
  }

  void Close(const std::string& reason) override {
    pb::ServerMessage msg;
    msg.mutable_closed()->set_reason(reason);
    Send(std::move(msg));
    std::lock_guard lock(mu_);
    FinishLocked(grpc::Status::OK);
  }

  void Abandon() override {
    std::lock_guard lock(mu_);
    FinishLocked(grpc::Status(grpc::StatusCode::ABORTED, "session opened on another stream"));
  }

  void Finish(const grpc::Status& status) {
    std::lock_guard lock(mu_);
    FinishLocked(status);
  }

  void StartRead() {
    std::lock_guard lock(mu_);
    if (stream_ != nullptr && !finishing_) stream_->StartRead(in_);
  }

  void WriteDone(bool ok) {
    std::lock_guard lock(mu_);
    if (!queue_.empty()) queue_.pop_front();
    if (!ok) {
      // The peer is gone: nothing more will be written.
      queue_.clear();
      if (!finishing_) {
        finishing_ = true;
        final_status_ = grpc::Status(grpc::StatusCode::CANCELLED, "stream closed");
      }
    }
    if (!queue_.empty() && stream_ != nullptr) {
      stream_->StartWrite(&queue_.front());
      return;
    }
    writing_ = false;
    if (finishing_ && !finished_ && stream_ != nullptr) {
      finished_ = true;
      stream_->Finish(final_status_);
    }
  }

  // Returns the attached session, if any, for the caller to detach.
  std::shared_ptr<CoreSession> Done() {
    std::lock_guard lock(mu_);
    stream_ = nullptr;
    return std::move(session_);
  }

  bool gone() {
    std::lock_guard lock(mu_);
    return stream_ == nullptr || finishing_;
  }

  grpc::StatusCode final_code() {
    std::lock_guard lock(mu_);
    return final_status_.error_code();
  }

 private:
  void FinishLocked(const grpc::Status& status) {
    if (finishing_) return;
    finishing_ = true;
    final_status_ = status;
    if (!writing_ && !finished_ && stream_ != nullptr) {
      finished_ = true;
      stream_->Finish(status);
    }
  }

  std::recursive_mutex mu_;
  Reactor* stream_;
  pb::ClientMessage* in_;
  std::shared_ptr<CoreSession> session_;
  std::deque<pb::ServerMessage> queue_;
  bool writing_ = false;
  bool finishing_ = false;
  bool finished_ = false;
  grpc::Status final_status_;
};

class SessionStream final : public grpc::ServerBidiReactor<pb::ClientMessage, pb::ServerMessage> {
 public:
  explicit SessionStream(GameService& service)
      : service_(service), sink_(std::make_shared<StreamSink>(this, &in_)) {
    sink_->StartRead();
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      // The gateway closed its side or the connection dropped: the session lingers.
      sink_->Finish(grpc::Status::OK);
      return;
    }
    if (!opened_) {
      if (in_.kind_case() != pb::ClientMessage::kOpen) {
        sink_->Finish(
            grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "the first message must be open"));
        return;
      }
      opened_ = true;
      OpenSession(in_.open());
      return;
    }
    if (in_.kind_case() == pb::ClientMessage::kCommand) {
      auto start = std::chrono::steady_clock::now();
      if (auto session = sink_->session()) {
        auto* metrics = &service_.metrics();
        service_.game().Submit(session, in_.command().line(), [metrics, start] {
          metrics->GrpcLatency("Session", std::chrono::steady_clock::now() - start);
        });
      }
    }
    sink_->StartRead();
  }

  void OnWriteDone(bool ok) override { sink_->WriteDone(ok); }

  void OnCancel() override { sink_->Finish(grpc::Status::CANCELLED); }

  void OnDone() override {
    if (auto session = sink_->Done()) service_.game().Detach(session, sink_.get());
    service_.metrics().Grpc("Session", GrpcCodeName(sink_->final_code()),
                            std::chrono::steady_clock::now() - started_);
    delete this;
  }

 private:
  void OpenSession(const pb::OpenSession& open) {
    auto sink = sink_;
    service_.game().OpenSession(
        open, sink,
        [sink, &game = service_.game()](const std::shared_ptr<CoreSession>& session, int replayed) {
          // Runs on the session's strand, before the replayed events are sent. Touches only
          // the shared sink: the reactor may already be gone.
          sink->SetSession(session);
          if (sink->gone()) {
            game.Detach(session, sink.get());
            return;
          }
          pb::ServerMessage msg;
          auto* opened = msg.mutable_opened();
          const auto character = session->character();
          opened->mutable_character()->set_id(character.id);
          opened->mutable_character()->set_name(character.name);
          opened->set_resumed(replayed > 0);
          opened->set_replayed_events(replayed);
          sink->Send(std::move(msg));
          sink->StartRead();
        },
        [sink](const common::Error& error) { sink->Finish(ToGrpcStatus(error)); });
  }

  GameService& service_;
  std::shared_ptr<StreamSink> sink_;
  pb::ClientMessage in_;
  bool opened_ = false;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

// "ipv4:127.0.0.1:5000" or "ipv6:[::1]:5000" -> the address without scheme and port.
std::string PeerHost(const std::string& peer) {
  std::string host = peer.substr(peer.find(':') + 1);
  host = host.substr(0, host.rfind(':'));
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return host;
}

}  // namespace

grpc::Status ToGrpcStatus(const common::Error& error) {
  switch (error.kind) {
    case ErrorKind::kNotFound:
      return {grpc::StatusCode::NOT_FOUND, error.message};
    case ErrorKind::kConflict:
      return {grpc::StatusCode::ABORTED, error.message};
    case ErrorKind::kUnavailable:
      return {grpc::StatusCode::UNAVAILABLE, error.message};
    case ErrorKind::kInvalid:
      return {grpc::StatusCode::INVALID_ARGUMENT, error.message};
    case ErrorKind::kPermissionDenied:
      return {grpc::StatusCode::PERMISSION_DENIED, error.message};
    case ErrorKind::kInternal:
      break;
  }
  return {grpc::StatusCode::INTERNAL, error.message};
}

std::string GrpcCodeName(grpc::StatusCode code) {
  static const char* kNames[] = {"OK",
                                 "CANCELLED",
                                 "UNKNOWN",
                                 "INVALID_ARGUMENT",
                                 "DEADLINE_EXCEEDED",
                                 "NOT_FOUND",
                                 "ALREADY_EXISTS",
                                 "PERMISSION_DENIED",
                                 "RESOURCE_EXHAUSTED",
                                 "FAILED_PRECONDITION",
                                 "ABORTED",
                                 "OUT_OF_RANGE",
                                 "UNIMPLEMENTED",
                                 "INTERNAL",
                                 "UNAVAILABLE",
                                 "DATA_LOSS",
                                 "UNAUTHENTICATED"};
  const int i = static_cast<int>(code);
  return i >= 0 && i <= 16 ? kNames[i] : "UNKNOWN";
}

GameService::GameService(Game& game, CoreMetrics& metrics, boost::asio::any_io_executor executor,
                         boost::asio::any_io_executor password_executor, int password_queue)
    : game_(game),
      metrics_(metrics),
      executor_(std::move(executor)),
      password_executor_(std::move(password_executor)),
      password_queue_(password_queue) {}

template <typename Work>
grpc::ServerUnaryReactor* GameService::Unary(grpc::CallbackServerContext* ctx, const char* method,
                                             Work work, const boost::asio::any_io_executor& on) {
  auto* reactor = ctx->DefaultReactor();
  const auto start = std::chrono::steady_clock::now();
  boost::asio::post(on, [this, reactor, method, start, work = std::move(work)]() mutable {
    grpc::Status status = work();
    metrics_.Grpc(method, GrpcCodeName(status.error_code()),
                  std::chrono::steady_clock::now() - start);
    reactor->Finish(status);
  });
  return reactor;
}

template <typename Work>
grpc::ServerUnaryReactor* GameService::PasswordUnary(grpc::CallbackServerContext* ctx,
                                                     const char* method, Work work) {
  if (password_calls_.fetch_add(1) >= password_queue_) {
    password_calls_.fetch_sub(1);
    return Unary(
        ctx, method,
        [] {
          return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                              "The server is busy, try again in a moment.");
        },
        executor_);
  }
  return Unary(
      ctx, method,
      [this, ctx, work = std::move(work)]() mutable {
        grpc::Status status;
        if (ctx->IsCancelled() || ctx->deadline() < std::chrono::system_clock::now()) {
          status = grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED,
                                "the client gave up before its turn");
        } else {
          status = work();
        }
        password_calls_.fetch_sub(1);
        return status;
      },
      password_executor_);
}

grpc::ServerUnaryReactor* GameService::CreateAccount(grpc::CallbackServerContext* ctx,
                                                     const pb::Credentials* request,
                                                     pb::LoginReply* reply) {
  return PasswordUnary(ctx, "CreateAccount", [this, request, reply] {
    auto r = game_.CreateAccount(request->username(), request->password());
    if (!r) return ToGrpcStatus(r.error());
    *reply = std::move(*r);
    return grpc::Status::OK;
  });
}

grpc::ServerUnaryReactor* GameService::Login(grpc::CallbackServerContext* ctx,
                                             const pb::Credentials* request,
                                             pb::LoginReply* reply) {
  // The gateway says where the player is; a direct client is where its connection comes from.
  std::string address = request->client_address();
  if (address.empty()) address = PeerHost(ctx->peer());
  return PasswordUnary(ctx, "Login", [this, request, reply, address = std::move(address)] {
    auto r = game_.Login(request->username(), request->password(), address);
    if (!r) return ToGrpcStatus(r.error());
    *reply = std::move(*r);
    return grpc::Status::OK;
  });
}

grpc::ServerUnaryReactor* GameService::StartSession(grpc::CallbackServerContext* ctx,
                                                    const pb::StartSessionRequest* request,
                                                    pb::StartSessionReply* reply) {
  return Unary(
      ctx, "StartSession",
      [this, request, reply] {
        auto r = game_.StartSession(request->login_token(), request->character_name());
        if (!r) return ToGrpcStatus(r.error());
        *reply = std::move(*r);
        return grpc::Status::OK;
      },
      executor_);
}

grpc::ServerUnaryReactor* GameService::Who(grpc::CallbackServerContext* ctx, const pb::WhoRequest*,
                                           pb::WhoReply* reply) {
  return Unary(
      ctx, "Who",
      [this, reply] {
        auto r = game_.Who();
        if (!r) return ToGrpcStatus(r.error());
        *reply = std::move(*r);
        return grpc::Status::OK;
      },
      executor_);
}

grpc::ServerBidiReactor<pb::ClientMessage, pb::ServerMessage>* GameService::Session(
    grpc::CallbackServerContext*) {
  return new SessionStream(*this);
}

ControlService::ControlService(std::string component, SessionRegistry& registry)
    : component_(std::move(component)), registry_(registry) {}

grpc::ServerUnaryReactor* ControlService::GetInfo(grpc::CallbackServerContext* ctx,
                                                  const pb::GetInfoRequest*,
                                                  pb::GetInfoReply* reply) {
  reply->set_component(component_);
  reply->set_version(common::kVersion);
  reply->set_uptime_seconds(
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started_)
          .count());
  reply->set_sessions(static_cast<int64_t>(registry_.AttachedCount()));
  auto* reactor = ctx->DefaultReactor();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

}  // namespace holomush::core
