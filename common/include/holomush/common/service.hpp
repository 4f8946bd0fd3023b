// The life of a long-running HoloMUSH process: ops server up, serve, drain on SIGTERM.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "holomush/common/config.hpp"
#include "holomush/common/health.hpp"
#include "holomush/common/logging.hpp"
#include "holomush/common/shutdown.hpp"
#include "holomush/common/tls.hpp"

namespace prometheus {
class Registry;
}

namespace holomush::common {

// What every process shares; built once in main and passed by reference.
struct ServiceContext {
  std::string component;
  Logger log{"main"};
  Health health;
  std::shared_ptr<prometheus::Registry> registry;
  ShutdownSignal* shutdown = nullptr;
};

// The component's part: start (throws on a fatal start-up error), then stop within `grace`
// once readiness has already turned 503.
struct ServiceHooks {
  std::function<void()> start;
  std::function<void(std::chrono::milliseconds grace)> stop;
};

// Settings every process takes: config, log-format, log-level, tls-dir, shutdown-grace.
std::vector<SettingSpec> CommonSettings();
// Configures logging from those settings.
void ConfigureLoggingFrom(const Config& config);

// Starts the ops server on `ops_address`, runs `hooks.start`, waits for SIGTERM/SIGINT (or
// ctx.shutdown->Request()), flips readiness, stops within the grace period. Returns the exit
// code: 0 after a clean stop, 1 when start failed.
int RunService(ServiceContext& ctx, const Config& config, const HostPort& ops_address,
               const ServiceHooks& hooks);

}  // namespace holomush::common
