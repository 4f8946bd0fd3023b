#include "holomush/gateway/server.hpp"

#include <prometheus/registry.h>

#include "gateway.hpp"
#include "holomush/common/process_metrics.hpp"
#include "holomush/common/service.hpp"
#include "web_static.hpp"

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
                   .help = "web listen address: the browser client at /, WebSocket at /ws"});
  specs.push_back({.name = "allowed-origins",
                   .kind = SettingKind::kString,
                   .default_value = "",
                   .help = "origins whose pages may open the WebSocket, comma-separated "
                           "(e.g. https://mush.example.com); empty: the page's own origin"});
  specs.push_back({.name = "control-addr",
                   .kind = SettingKind::kAddress,
                   .default_value = "0.0.0.0:9002",
                   .help = "gRPC control listen address (mTLS)"});
  specs.push_back({.name = "max-connections",
                   .kind = SettingKind::kInt,
                   .default_value = "2000",
                   .help = "client connections (telnet and WebSocket) at most; more are refused",
                   .min = 1,
                   .max = 1000000});
  specs.push_back({.name = "max-connections-per-address",
                   .kind = SettingKind::kInt,
                   .default_value = "50",
                   .help = "client connections from one IP address at once (0: no limit; "
                           "loopback is never limited)",
                   .min = 0,
                   .max = 1000000});
  specs.push_back({.name = "max-prelogin-connections",
                   .kind = SettingKind::kInt,
                   .default_value = "500",
                   .help = "connections that have not logged in yet, from all addresses "
                           "together (0: no limit); more are refused until some log in or "
                           "time out (login-timeout)",
                   .min = 0,
                   .max = 1000000});
  specs.push_back({.name = "logins-per-minute",
                   .kind = SettingKind::kInt,
                   .default_value = "30",
                   .help = "login attempts one IP address may make per minute (0: no limit)",
                   .min = 0,
                   .max = 1000000});
  specs.push_back({.name = "accounts-per-minute",
                   .kind = SettingKind::kInt,
                   .default_value = "3",
                   .help = "accounts one IP address may create per minute (0: no limit)",
                   .min = 0,
                   .max = 1000000});
  specs.push_back(
      {.name = "idle-timeout",
       .kind = SettingKind::kDuration,
       .default_value = "2h",
       .help = "close a logged-in connection after this long without input (0: never)"});
  specs.push_back({.name = "login-timeout",
                   .kind = SettingKind::kDuration,
                   .default_value = "60s",
                   .help = "close a connection that has not logged in after this long (0: never)"});
  specs.push_back({.name = "max-line-bytes",
                   .kind = SettingKind::kInt,
                   .default_value = "4096",
                   .help = "longest input line; longer lines are refused",
                   .min = 64,
                   .max = 1 << 20});
  specs.push_back({.name = "output-buffer-bytes",
                   .kind = SettingKind::kInt,
                   .default_value = "262144",
                   .help = "output queued to one client before it is dropped as not reading",
                   .min = 4096,
                   .max = 64 << 20});
  specs.push_back({.name = "io-threads",
                   .kind = SettingKind::kInt,
                   .default_value = "2",
                   .help = "threads serving client connections",
                   .min = 1,
                   .max = 64});
  specs.push_back({.name = "core-streams",
                   .kind = SettingKind::kInt,
                   .default_value = "2",
                   .help = "gRPC streams to core that the players' sessions share",
                   .min = 1,
                   .max = 64});
  return specs;
}

namespace {

std::vector<std::string> AllowedOriginsFrom(const common::Config& config) {
  try {
    return ParseAllowedOrigins(config.String("allowed-origins"));
  } catch (const std::invalid_argument& e) {
    throw common::ConfigError("invalid setting allowed-origins (" +
                              config.Source("allowed-origins") + "): " + e.what() +
                              "; allowed: a comma-separated list of origins");
  }
}

}  // namespace

int RunGateway(const common::Config& config, common::ShutdownSignal& shutdown) {
  common::ConfigureLoggingFrom(config);
  common::ServiceContext ctx{.component = "gateway",
                             .log = common::Logger("gateway"),
                             .registry = std::make_shared<prometheus::Registry>(),
                             .shutdown = &shutdown};
  common::ProcessMetrics process_metrics(*ctx.registry, "gateway", ctx.health);
  const std::string tls_dir = config.String("tls-dir");
  process_metrics.RecordCertificates(tls_dir, "gateway");

  GatewayOptions options{
      .telnet_addr = config.Address("telnet-addr"),
      .web_addr = config.Address("web-addr"),
      .control_addr = config.Address("control-addr"),
      .core_addr = config.Address("core-addr"),
      .tls_dir = tls_dir,
      .limits = {.max_line_bytes = static_cast<size_t>(config.Int("max-line-bytes")),
                 .output_limit_bytes = static_cast<size_t>(config.Int("output-buffer-bytes")),
                 .idle_timeout = config.Duration("idle-timeout"),
                 .login_timeout = config.Duration("login-timeout")},
      .allowed_origins = AllowedOriginsFrom(config),
      .connections = {.total = static_cast<size_t>(config.Int("max-connections")),
                      .per_address = static_cast<size_t>(config.Int("max-connections-per-address")),
                      .prelogin = static_cast<size_t>(config.Int("max-prelogin-connections"))},
      .logins_per_minute = static_cast<double>(config.Int("logins-per-minute")),
      .accounts_per_minute = static_cast<double>(config.Int("accounts-per-minute")),
      .io_threads = static_cast<int>(config.Int("io-threads")),
      .core_streams = static_cast<int>(config.Int("core-streams")),
  };
  Gateway gateway(options, ctx.health, *ctx.registry, ctx.log);
  return common::RunService(
      ctx, config, config.Address("ops-addr"),
      {.start = [&] { gateway.Start(); },
       .stop = [&](std::chrono::milliseconds grace) { gateway.Stop(grace); }});
}

}  // namespace holomush::gateway
