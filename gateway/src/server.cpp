#include "holomush/gateway/server.hpp"

#include <prometheus/registry.h>

#include "holomush/common/process_metrics.hpp"
#include "holomush/common/service.hpp"

namespace holomush::gateway {

std::vector<common::SettingSpec> GatewaySettings() {
  using common::SettingKind;
  auto specs = common::CommonSettings();
  specs.push_back({.name = "ops-addr",
                   .kind = SettingKind::kAddress,
                   .default_value = "0.0.0.0:9101",
                   .help = "ops HTTP listen address (health, metrics)"});
  specs.push_back({.name = "core-addr",
                   .kind = SettingKind::kAddress,
                   .default_value = "127.0.0.1:9000",
                   .help = "core's gRPC address"});
  specs.push_back({.name = "telnet-addr",
                   .kind = SettingKind::kAddress,
                   .default_value = "0.0.0.0:4201",
                   .help = "telnet listen address"});
  specs.push_back({.name = "web-addr",
                   .kind = SettingKind::kAddress,
                   .default_value = "0.0.0.0:8080",
                   .help = "WebSocket listen address (path /ws)"});
  specs.push_back({.name = "control-addr",
                   .kind = SettingKind::kAddress,
                   .default_value = "0.0.0.0:9002",
                   .help = "gRPC control listen address (mTLS)"});
  return specs;
}

int RunGateway(const common::Config& config, common::ShutdownSignal& shutdown) {
  common::ConfigureLoggingFrom(config);
  common::ServiceContext ctx{.component = "gateway",
                             .log = common::Logger("gateway"),
                             .registry = std::make_shared<prometheus::Registry>(),
                             .shutdown = &shutdown};
  common::ProcessMetrics process_metrics(*ctx.registry, "gateway", ctx.health);
  return common::RunService(ctx, config, config.Address("ops-addr"),
                            {.start = [] {}, .stop = [](std::chrono::milliseconds) {}});
}

}  // namespace holomush::gateway
