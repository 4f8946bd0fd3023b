// The gRPC face of core: holomush.core.v1.Game and Control (callback API: no thread per stream).
#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <chrono>

#include "core_metrics.hpp"
#include "game/game.hpp"
#include "holomush/core/v1/core.grpc.pb.h"
#include "session/registry.hpp"

namespace holomush::core {

grpc::Status ToGrpcStatus(const common::Error& error);
std::string GrpcCodeName(grpc::StatusCode code);

// Unary calls do their database work on `executor` (never on gRPC's threads); each Gateway
// stream is a reactor carrying many sessions, whose commands run on each session's strand.
// CreateAccount and Login, which hash passwords (argon2id, tens of milliseconds of CPU each), run
// on `password_executor` instead, so a login storm queues there and never delays commands.
// At most `password_queue` such calls wait or run at once: more are refused at once with
// RESOURCE_EXHAUSTED, and a call whose client gave up (cancelled, or its deadline passed)
// while it waited is skipped, never hashed.
class GameService final : public pb::Game::CallbackService {
 public:
  GameService(Game& game, CoreMetrics& metrics, boost::asio::any_io_executor executor,
              boost::asio::any_io_executor password_executor, int password_queue);

  grpc::ServerUnaryReactor* CreateAccount(grpc::CallbackServerContext* ctx,
                                          const pb::Credentials* request,
                                          pb::LoginReply* reply) override;
  grpc::ServerUnaryReactor* Login(grpc::CallbackServerContext* ctx, const pb::Credentials* request,
                                  pb::LoginReply* reply) override;
  grpc::ServerUnaryReactor* StartSession(grpc::CallbackServerContext* ctx,
                                         const pb::StartSessionRequest* request,
                                         pb::StartSessionReply* reply) override;
  grpc::ServerUnaryReactor* Who(grpc::CallbackServerContext* ctx, const pb::WhoRequest* request,
                                pb::WhoReply* reply) override;
  grpc::ServerBidiReactor<pb::GatewayUp, pb::GatewayDown>* Gateway(
      grpc::CallbackServerContext* ctx) override;

  Game& game() { return game_; }
  CoreMetrics& metrics() { return metrics_; }

 private:
  template <typename Work>
  grpc::ServerUnaryReactor* Unary(grpc::CallbackServerContext* ctx, const char* method, Work work,
                                  const boost::asio::any_io_executor& on);
  // Unary, on the password pool, within its queue bound.
  template <typename Work>
  grpc::ServerUnaryReactor* PasswordUnary(grpc::CallbackServerContext* ctx, const char* method,
                                          Work work);

  Game& game_;
  CoreMetrics& metrics_;
  boost::asio::any_io_executor executor_;
  boost::asio::any_io_executor password_executor_;
  const int password_queue_;
  std::atomic<int> password_calls_{0};  // waiting or running on the password pool
};

class ControlService final : public pb::Control::CallbackService {
 public:
  ControlService(std::string component, SessionRegistry& registry);
  grpc::ServerUnaryReactor* GetInfo(grpc::CallbackServerContext* ctx,
                                    const pb::GetInfoRequest* request,
                                    pb::GetInfoReply* reply) override;

 private:
  std::string component_;
  SessionRegistry& registry_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

}  // namespace holomush::core
