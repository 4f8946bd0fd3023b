#include "metrics.hpp"

namespace holomush::gateway {

const char* ProtocolName(Protocol protocol) {
  return protocol == Protocol::kTelnet ? "telnet" : "websocket";
}

const char* CloseReasonName(CloseReason reason) {
  switch (reason) {
    case CloseReason::kQuit:
      return "quit";
    case CloseReason::kSessionEnded:
      return "session_ended";
    case CloseReason::kIdle:
      return "idle";
    case CloseReason::kLoginTimeout:
      return "login_timeout";
    case CloseReason::kSlowReader:
      return "slow_reader";
    case CloseReason::kClientGone:
      return "client_gone";
    case CloseReason::kShutdown:
      return "shutdown";
  }
  return "unknown";
}

GatewayMetrics::GatewayMetrics(prometheus::Registry& registry) {
  auto& active = prometheus::BuildGauge()
                     .Name("holomush_gateway_connections_active")
                     .Help("Client connections open now, by protocol.")
                     .Register(registry);
  auto& total = prometheus::BuildCounter()
                    .Name("holomush_gateway_connections_total")
                    .Help("Client connections accepted, by protocol.")
                    .Register(registry);
  auto& refused = prometheus::BuildCounter()
                      .Name("holomush_gateway_connections_refused_total")
                      .Help(
                          "Client connections refused (connection limit, pre-login limit, "
                          "per-address limit, shutting down).")
                      .Register(registry);
  auto& received = prometheus::BuildCounter()
                       .Name("holomush_gateway_bytes_received_total")
                       .Help("Bytes received from clients, by protocol.")
                       .Register(registry);
  auto& sent = prometheus::BuildCounter()
                   .Name("holomush_gateway_bytes_sent_total")
                   .Help("Bytes written to clients, by protocol.")
                   .Register(registry);
  auto& disconnects = prometheus::BuildCounter()
                          .Name("holomush_gateway_disconnects_total")
                          .Help("Client connections ended, by protocol and reason.")
                          .Register(registry);
  for (const Protocol p : {Protocol::kTelnet, Protocol::kWebSocket}) {
    const std::string name = ProtocolName(p);
    PerProtocol& m = For(p);
    m.connections_active = &active.Add({{"protocol", name}});
    m.connections_total = &total.Add({{"protocol", name}});
    m.refused_limit = &refused.Add({{"protocol", name}, {"reason", "limit"}});
    m.refused_shutdown = &refused.Add({{"protocol", name}, {"reason", "shutdown"}});
    m.refused_address = &refused.Add({{"protocol", name}, {"reason", "address"}});
    m.refused_prelogin = &refused.Add({{"protocol", name}, {"reason", "prelogin"}});
    m.bytes_received = &received.Add({{"protocol", name}});
    m.bytes_sent = &sent.Add({{"protocol", name}});
    for (size_t r = 0; r < kCloseReasonCount; ++r) {
      m.disconnects[r] = &disconnects.Add(
          {{"protocol", name}, {"reason", CloseReasonName(static_cast<CloseReason>(r))}});
    }
  }
  sessions_active_ = &prometheus::BuildGauge()
                          .Name("holomush_gateway_sessions_active")
                          .Help("Players logged in through this gateway (game sessions).")
                          .Register(registry)
                          .Add({});
  auto& http = prometheus::BuildCounter()
                   .Name("holomush_gateway_http_responses_total")
                   .Help("Plain HTTP responses on the web port (web client files, refusals).")
                   .Register(registry);
  for (size_t i = 0; i < kHttpStatuses.size(); ++i) {
    http_responses_[i] = &http.Add({{"code", std::to_string(kHttpStatuses[i])}});
  }
  http_responses_.back() = &http.Add({{"code", "other"}});
  origins_refused_ = &prometheus::BuildCounter()
                          .Name("holomush_gateway_websocket_origins_refused_total")
                          .Help("WebSocket upgrades refused for an Origin not allowed.")
                          .Register(registry)
                          .Add({});
  auto& logins_refused = prometheus::BuildCounter()
                             .Name("holomush_gateway_logins_refused_total")
                             .Help(
                                 "Logins and account creations refused by the gateway's "
                                 "per-address limits, by reason.")
                             .Register(registry);
  logins_refused_login_rate_ = &logins_refused.Add({{"reason", "login_rate"}});
  logins_refused_create_rate_ = &logins_refused.Add({{"reason", "create_rate"}});
  core_reconnects_ = &prometheus::BuildCounter()
                          .Name("holomush_gateway_core_reconnects_total")
                          .Help("Session streams reopened to core after a broken link.")
                          .Register(registry)
                          .Add({});
}

prometheus::Counter& GatewayMetrics::http_responses(int status) {
  for (size_t i = 0; i < kHttpStatuses.size(); ++i) {
    if (kHttpStatuses[i] == status) return *http_responses_[i];
  }
  return *http_responses_.back();
}

}  // namespace holomush::gateway
