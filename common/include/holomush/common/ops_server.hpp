// The ops HTTP server of every HoloMUSH process: liveness, readiness and /metrics.
#pragma once

#include <memory>
#include <string>

#include "holomush/common/config.hpp"
#include "holomush/common/health.hpp"

namespace prometheus {
class Registry;
}

namespace holomush::common {

// Where the probes answer. Core and gateway use the defaults; the operator keeps the paths
// its SPEC gives it (/healthz, /readyz).
struct OpsPaths {
  std::string liveness = "/healthz/liveness";
  std::string readiness = "/healthz/readiness";
};

// Runs on its own thread and io_context, so a slow or stuck client (bounded by a read
// timeout) or a busy game loop never delays a probe.
class OpsServer {
 public:
  OpsServer(HostPort address, Health& health, std::shared_ptr<prometheus::Registry> registry,
            OpsPaths paths = {});
  ~OpsServer();
  OpsServer(const OpsServer&) = delete;
  OpsServer& operator=(const OpsServer&) = delete;

  // Binds and starts serving; throws std::runtime_error naming the address on failure.
  void Start();
  void Stop();
  // The bound port (useful with port 0).
  uint16_t port() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace holomush::common
