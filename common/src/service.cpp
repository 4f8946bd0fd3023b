#include "holomush/common/service.hpp"

#include <prometheus/registry.h>

#include <future>

#include "holomush/common/ops_server.hpp"
#include "holomush/common/version.hpp"

namespace holomush::common {

std::vector<SettingSpec> CommonSettings() {
  return {
      {.name = "log-format",
       .kind = SettingKind::kChoice,
       .default_value = "json",
       .help = "log line format",
       .choices = {"json", "text"}},
      {.name = "log-level",
       .kind = SettingKind::kChoice,
       .default_value = "info",
       .help = "lowest level logged",
       .choices = {"debug", "info", "warn", "error"}},
      {.name = "tls-dir",
       .kind = SettingKind::kString,
       .default_value = DefaultTlsDir(),
       .help = "directory holding ca.crt and the component certificates"},
      {.name = "shutdown-grace",
       .kind = SettingKind::kDuration,
       .default_value = "15s",
       .help = "how long to drain on SIGTERM before exiting"},
  };
}

void ConfigureLoggingFrom(const Config& config) {
  ConfigureLogging(ParseLogFormat(config.String("log-format")),
                   ParseLogLevel(config.String("log-level")));
}

int RunService(ServiceContext& ctx, const Config& config, const HostPort& ops_address,
               const ServiceHooks& hooks) {
  OpsServer ops(ops_address, ctx.health, ctx.registry);
  try {
    ops.Start();
    hooks.start();
  } catch (const std::exception& e) {
    ctx.log.Error("start failed", {{"error", e.what()}});
    return 1;
  }
  ctx.log.Info("started", {{"version", kVersion},
                           {"ops_addr", ops_address.host + ":" + std::to_string(ops.port())}});
  const int sig = ctx.shutdown->Wait();
  ctx.health.SetShuttingDown();
  const auto grace = config.Duration("shutdown-grace");
  ctx.log.Info("stopping", {{"signal", sig}, {"grace_ms", grace.count()}});
  auto stopped = std::async(std::launch::async, [&] { hooks.stop(grace); });
  if (stopped.wait_for(grace + std::chrono::seconds(2)) != std::future_status::ready) {
    ctx.log.Error("grace period exceeded; exiting anyway", {{"grace_ms", grace.count()}});
    std::_Exit(0);
  }
  ops.Stop();
  ctx.log.Info("stopped");
  return 0;
}

}  // namespace holomush::common
