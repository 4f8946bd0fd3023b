#include "holomush/core/server.hpp"

#include <prometheus/registry.h>

#include "holomush/common/process_metrics.hpp"
#include "holomush/common/service.hpp"

namespace holomush::core {

std::vector<common::SettingSpec> CoreSettings() {
  using common::SettingKind;
  auto specs = common::CommonSettings();
  specs.push_back({.name = "grpc-addr",
                   .kind = SettingKind::kAddress,
                   .default_value = "0.0.0.0:9000",
                   .help = "gRPC listen address (mTLS)"});
  specs.push_back({.name = "ops-addr",
                   .kind = SettingKind::kAddress,
                   .default_value = "0.0.0.0:9100",
                   .help = "ops HTTP listen address (health, metrics)"});
  return specs;
}

int RunCore(const common::Config& config, common::ShutdownSignal& shutdown) {
  common::ConfigureLoggingFrom(config);
  common::ServiceContext ctx{.component = "core",
                             .log = common::Logger("core"),
                             .registry = std::make_shared<prometheus::Registry>(),
                             .shutdown = &shutdown};
  common::ProcessMetrics process_metrics(*ctx.registry, "core", ctx.health);
  return common::RunService(ctx, config, config.Address("ops-addr"),
                            {.start = [] {}, .stop = [](std::chrono::milliseconds) {}});
}

}  // namespace holomush::core
