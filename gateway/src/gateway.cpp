#include "gateway.hpp"

#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>

#include <boost/asio/post.hpp>

#include "core_client.hpp"
#include "front.hpp"
#include "grpc/health/v1/health.grpc.pb.h"
#include "holomush/common/grpc_health.hpp"
#include "holomush/common/tls.hpp"
#include "holomush/common/version.hpp"
#include "holomush/core/v1/core.grpc.pb.h"
#include "login_throttle.hpp"

namespace holomush::gateway {

namespace health_v1 = ::grpc::health::v1;

// Control.GetInfo for `holomush status`. Runs on gRPC's threads; reads only atomics.
class ControlService final : public v1::Control::CallbackService {
 public:
  ControlService(std::chrono::steady_clock::time_point started, GatewayMetrics& metrics)
      : started_(started), metrics_(metrics) {}

  grpc::ServerUnaryReactor* GetInfo(grpc::CallbackServerContext* context,
                                    const v1::GetInfoRequest* /*request*/,
                                    v1::GetInfoReply* reply) override {
    reply->set_component("gateway");
    reply->set_version(common::kVersion);
    reply->set_uptime_seconds(std::chrono::duration_cast<std::chrono::seconds>(
                                  std::chrono::steady_clock::now() - started_)
                                  .count());
    reply->set_sessions(static_cast<int64_t>(metrics_.sessions_active().Value()));
    auto* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

 private:
  std::chrono::steady_clock::time_point started_;
  GatewayMetrics& metrics_;
};

CoreHealthPoller::CoreHealthPoller(std::shared_ptr<grpc::Channel> channel, common::Health& health,
                                   std::chrono::milliseconds interval, common::Logger log)
    : channel_(std::move(channel)), health_(health), interval_(interval), log_(std::move(log)) {}

CoreHealthPoller::~CoreHealthPoller() { Stop(); }

void CoreHealthPoller::Start() {
  health_.Set("core", false, "not checked yet");
  thread_ = std::thread([this] { Run(); });
}

void CoreHealthPoller::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void CoreHealthPoller::Run() {
  auto stub = health_v1::Health::NewStub(channel_);
  bool first = true;
  bool last_ok = false;
  while (true) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::max(interval_, std::chrono::milliseconds(500)));
    health_v1::HealthCheckRequest request;
    health_v1::HealthCheckResponse response;
    const grpc::Status status = stub->Check(&context, request, &response);
    const bool ok = status.ok() && response.status() == health_v1::HealthCheckResponse::SERVING;
    std::string detail;
    if (!status.ok()) {
      detail = "core unreachable: " + status.error_message();
    } else if (!ok) {
      detail = "core is " + health_v1::HealthCheckResponse::ServingStatus_Name(response.status());
    }
    health_.Set("core", ok, detail);
    if (first || ok != last_ok) {
      if (ok) {
        log_.Info("core is serving");
      } else {
        log_.Warn("core is not serving", {{"detail", detail}});
      }
    }
    first = false;
    last_ok = ok;
    std::unique_lock lock(mu_);
    if (wake_.wait_for(lock, interval_, [this] { return stop_; })) return;
  }
}

Gateway::Gateway(GatewayOptions options, common::Health& health, prometheus::Registry& registry,
                 common::Logger log)
    : options_(std::move(options)),
      health_(health),
      log_(std::move(log)),
      started_(std::chrono::steady_clock::now()),
      metrics_(std::make_unique<GatewayMetrics>(registry)),
      resume_(std::make_unique<ResumeMemory>()),
      throttle_(std::make_unique<LoginThrottle>(options_.logins_per_minute,
                                                options_.accounts_per_minute)) {}

Gateway::~Gateway() {
  if (front_) Stop(std::chrono::milliseconds(0));
}

void Gateway::Start() {
  channel_ =
      GrpcCoreClient::MakeChannel(options_.core_addr.ToString(),
                                  common::MutualTlsClientCredentials(options_.tls_dir, "gateway"));
  core_ = std::make_unique<GrpcCoreClient>(channel_, options_.core_streams);
  // Pre-login `who` needs no account: however many connections ask, core hears it once a
  // second at most.
  who_cache_ = std::make_unique<WhoCache>(*core_, std::chrono::seconds(1));

  ConnectionEnv env{.limits = options_.limits,
                    .deps = {.core = who_cache_.get(),
                             .resume = resume_.get(),
                             .metrics = metrics_.get(),
                             .log = &log_,
                             .throttle = throttle_.get()},
                    .session = {},
                    .metrics = metrics_.get(),
                    .registry = nullptr,
                    .log = log_,
                    .web_assets = EmbeddedWebAssets(),
                    .allowed_origins = options_.allowed_origins};
  front_ = std::make_unique<ClientFront>(env, options_.connections, options_.io_threads);

  // The control server: mutual TLS as `gateway`, for `holomush status` (the cli certificate)
  // only; grpc.health.v1 follows our readiness.
  grpc::EnableDefaultHealthCheckService(true);
  control_ = std::make_unique<ControlService>(started_, *metrics_);
  grpc::ServerBuilder builder;
  int control_port = 0;
  builder.AddListeningPort(options_.control_addr.ToString(),
                           common::MutualTlsServerCredentials(options_.tls_dir, "gateway", {"cli"}),
                           &control_port);
  builder.RegisterService(control_.get());
  control_server_ = builder.BuildAndStart();
  if (!control_server_ || control_port == 0) {
    throw std::runtime_error("cannot listen for gRPC control on " +
                             options_.control_addr.ToString());
  }
  common::BindGrpcHealth(health_, *control_server_);

  front_->Start(options_.telnet_addr, options_.web_addr);
  io_heartbeat_ = std::make_unique<common::ExecutorHeartbeat>(
      health_.AddHeartbeat("client io threads", std::chrono::seconds(30)),
      [io = &front_->io()](std::function<void()> beat) {
        boost::asio::post(*io, std::move(beat));
      });
  poller_ =
      std::make_unique<CoreHealthPoller>(channel_, health_, options_.core_health_interval, log_);
  poller_->Start();
  log_.Info("gateway listening", {{"telnet_port", front_->telnet_port()},
                                  {"web_port", front_->web_port()},
                                  {"control_port", control_port},
                                  {"core_addr", options_.core_addr.ToString()}});
}

void Gateway::Stop(std::chrono::milliseconds grace) {
  const auto deadline = std::chrono::steady_clock::now() + grace;
  auto left = [&] {
    return std::max(std::chrono::milliseconds(0),
                    std::chrono::duration_cast<std::chrono::milliseconds>(
                        deadline - std::chrono::steady_clock::now()));
  };
  io_heartbeat_.reset();
  // Players first: they hear why, and their sessions stay resumable in core.
  if (front_) {
    log_.Info("telling players and closing connections", {{"connections", front_->connections()}});
    front_->Stop(left() * 3 / 4, std::string(kShutdownText));
  }
  if (core_) core_->Shutdown(left());
  if (poller_) poller_->Stop();
  if (control_server_) {
    control_server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
    control_server_->Wait();
  }
  front_.reset();
  poller_.reset();
  control_server_.reset();
  control_.reset();
  core_.reset();  // first: its pending completions call into who_cache_
  who_cache_.reset();
}

uint16_t Gateway::telnet_port() const { return front_ ? front_->telnet_port() : 0; }
uint16_t Gateway::web_port() const { return front_ ? front_->web_port() : 0; }
int64_t Gateway::sessions() const {
  return static_cast<int64_t>(metrics_->sessions_active().Value());
}

}  // namespace holomush::gateway
