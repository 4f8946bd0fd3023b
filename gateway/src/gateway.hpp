// The whole gateway process minus flag parsing: client front, core client, core readiness
// poller, and the gRPC control server (grpc.health.v1 and Control on --control-addr).
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "connection.hpp"
#include "holomush/common/config.hpp"
#include "holomush/common/health.hpp"
#include "holomush/common/logging.hpp"
#include "who_cache.hpp"

namespace grpc {
class Channel;
class Server;
}  // namespace grpc
namespace prometheus {
class Registry;
}

namespace holomush::gateway {

class ClientFront;
class LoginThrottle;
class GrpcCoreClient;
class ControlService;

struct GatewayOptions {
  common::HostPort telnet_addr;
  std::optional<common::HostPort> web_addr;
  common::HostPort control_addr;
  common::HostPort core_addr;
  std::string tls_dir;
  ConnectionLimits limits;
  // Origins a browser page may open the WebSocket from; empty: the page's own (Host).
  std::vector<std::string> allowed_origins;
  ConnectionCaps connections{.total = 2000, .per_address = 50, .prelogin = 500};
  double logins_per_minute = 30;   // per address; 0: no limit
  double accounts_per_minute = 3;  // per address; 0: no limit
  int io_threads = 2;
  int core_streams = 2;  // Gateway streams to core, shared by the sessions in turn
  std::chrono::milliseconds core_health_interval{1000};
};

// Polls core's grpc.health.v1 Check on its own thread and keeps the readiness check "core"
// current (ok exactly while core says SERVING).
class CoreHealthPoller {
 public:
  CoreHealthPoller(std::shared_ptr<grpc::Channel> channel, common::Health& health,
                   std::chrono::milliseconds interval, common::Logger log);
  ~CoreHealthPoller();
  void Start();
  void Stop();

 private:
  void Run();
  std::shared_ptr<grpc::Channel> channel_;
  common::Health& health_;
  std::chrono::milliseconds interval_;
  common::Logger log_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;
};

// Owned by RunGateway's main; Start then Stop, from the main thread.
class Gateway {
 public:
  Gateway(GatewayOptions options, common::Health& health, prometheus::Registry& registry,
          common::Logger log);
  ~Gateway();

  // Connects the channel, binds every listener; throws with one line naming what failed.
  void Start();
  // Readiness is already 503. Tells players, drains within `grace`, stops everything.
  void Stop(std::chrono::milliseconds grace);

  uint16_t telnet_port() const;
  uint16_t web_port() const;
  int64_t sessions() const;

 private:
  GatewayOptions options_;
  common::Health& health_;
  common::Logger log_;
  std::chrono::steady_clock::time_point started_;
  std::unique_ptr<GatewayMetrics> metrics_;
  std::unique_ptr<ResumeMemory> resume_;
  std::unique_ptr<LoginThrottle> throttle_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<GrpcCoreClient> core_;
  std::unique_ptr<WhoCache> who_cache_;  // core_ as the sessions see it
  std::unique_ptr<ClientFront> front_;
  // Liveness: a beat through the client io_context every second.
  std::unique_ptr<common::ExecutorHeartbeat> io_heartbeat_;
  std::unique_ptr<CoreHealthPoller> poller_;
  std::unique_ptr<ControlService> control_;
  std::unique_ptr<grpc::Server> control_server_;
};

}  // namespace holomush::gateway
