#include "service/grpc_service.hpp"

#include <boost/asio/post.hpp>

#include "holomush/common/version.hpp"
#include "service/gateway_stream.hpp"

namespace holomush::core {
namespace {

using common::ErrorKind;

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
    // Counted by the metrics interceptor as the status goes out.
    reactor->Finish(work());
  });
  return reactor;
}

template <typename Work>
grpc::ServerUnaryReactor* GameService::PasswordUnary(grpc::CallbackServerContext* ctx,
                                                     const char* method, Work work) {
  if (password_calls_.fetch_add(1) >= password_queue_) {
    password_calls_.fetch_sub(1);
    return Unary(
        ctx, method, [] { return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, kServerBusy); },
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
        auto rows = game_.Who();
        if (!rows) return ToGrpcStatus(rows.error());
        for (const auto& row : *rows) {
          auto* entry = reply->add_entries();
          entry->set_name(row.name);
          entry->set_idle_seconds(row.idle_seconds);
        }
        return grpc::Status::OK;
      },
      executor_);
}

grpc::ServerBidiReactor<pb::GatewayUp, pb::GatewayDown>* GameService::Gateway(
    grpc::CallbackServerContext*) {
  return NewGatewayStream(*this);
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
