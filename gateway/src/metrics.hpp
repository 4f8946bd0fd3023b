// The gateway's metrics (docs/design/metrics.md, gateway section) and their bounded labels.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>

#include <array>

namespace holomush::gateway {

enum class Protocol { kTelnet, kWebSocket };
const char* ProtocolName(Protocol protocol);

// Why a client connection ended (label `reason` of holomush_gateway_disconnects_total).
enum class CloseReason {
  kQuit,          // the player typed quit
  kSessionEnded,  // core ended the session (quit, boot, shutdown, expired)
  kIdle,          // idle timeout after login
  kLoginTimeout,  // no login within the pre-login timeout
  kSlowReader,    // the output queue overflowed: the client stopped reading
  kClientGone,    // the client closed the connection or it failed
  kShutdown,      // the gateway is stopping
};
inline constexpr size_t kCloseReasonCount = 7;
const char* CloseReasonName(CloseReason reason);

// Registers and owns the handles; created once by the gateway, shared by every connection.
// prometheus-cpp's metrics are atomic, so any thread may update them.
class GatewayMetrics {
 public:
  explicit GatewayMetrics(prometheus::Registry& registry);

  struct PerProtocol {
    prometheus::Gauge* connections_active = nullptr;
    prometheus::Counter* connections_total = nullptr;
    prometheus::Counter* refused_limit = nullptr;
    prometheus::Counter* refused_shutdown = nullptr;
    prometheus::Counter* refused_address = nullptr;   // over max-connections-per-address
    prometheus::Counter* refused_prelogin = nullptr;  // over max-prelogin-connections
    prometheus::Counter* bytes_received = nullptr;
    prometheus::Counter* bytes_sent = nullptr;
    std::array<prometheus::Counter*, kCloseReasonCount> disconnects{};
  };
  PerProtocol& For(Protocol protocol) { return per_protocol_[static_cast<size_t>(protocol)]; }

  // Plain HTTP answers on the web port (the browser client's files and refusals), by status.
  prometheus::Counter& http_responses(int status);
  // WebSocket upgrades refused because of their Origin header.
  prometheus::Counter& origins_refused() { return *origins_refused_; }

  // Logins and account creations refused at the gateway before reaching core, by reason
  // (`login_rate`, `create_rate`: the per-address limits).
  prometheus::Counter& logins_refused_login_rate() { return *logins_refused_login_rate_; }
  prometheus::Counter& logins_refused_create_rate() { return *logins_refused_create_rate_; }

  prometheus::Gauge& sessions_active() { return *sessions_active_; }
  prometheus::Counter& core_reconnects() { return *core_reconnects_; }

 private:
  std::array<PerProtocol, 2> per_protocol_{};
  prometheus::Gauge* sessions_active_ = nullptr;
  prometheus::Counter* core_reconnects_ = nullptr;
  prometheus::Counter* origins_refused_ = nullptr;
  prometheus::Counter* logins_refused_login_rate_ = nullptr;
  prometheus::Counter* logins_refused_create_rate_ = nullptr;
  // One series per status we answer, plus "other": the label stays bounded.
  static constexpr std::array<int, 6> kHttpStatuses = {200, 304, 403, 404, 405, 426};
  std::array<prometheus::Counter*, kHttpStatuses.size() + 1> http_responses_{};
};

}  // namespace holomush::gateway
