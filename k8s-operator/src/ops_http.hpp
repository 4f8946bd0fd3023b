// The operator's ops HTTP server: /healthz, /readyz and /metrics on its own thread.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "holomush/common/config.hpp"

namespace prometheus {
class Registry;
}

namespace holomush::op {

// Owned by RunOperator. The probes call `ready` on the server's thread: it must be cheap
// and thread-safe (it reads atomics).
class OpsHttpServer {
 public:
  using ReadyCheck = std::function<std::pair<bool, std::string>()>;
  OpsHttpServer(common::HostPort address, ReadyCheck ready,
                std::shared_ptr<prometheus::Registry> registry);
  ~OpsHttpServer();
  OpsHttpServer(const OpsHttpServer&) = delete;
  OpsHttpServer& operator=(const OpsHttpServer&) = delete;

  // Binds and serves; throws std::runtime_error naming the address when it cannot.
  void Start();
  void Stop();
  uint16_t port() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace holomush::op
