// Probing a HoloMUSH process over gRPC (health and Control.GetInfo) for `holomush status`
// and `holomush dev`.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace holomush::cli {

// What one probe found. `health` is the grpc.health.v1 status name when the process answered
// (SERVING, NOT_SERVING, ...), else UNREACHABLE, TLS_FAILURE, TIMEOUT or ERROR; `error` then
// says what happened in one line.
struct ComponentStatus {
  std::string component;
  std::string address;
  std::string health;
  std::optional<std::string> version;
  std::optional<int64_t> uptime_seconds;
  std::optional<int64_t> sessions;
  std::string error;
  bool serving() const { return health == "SERVING"; }
};

// Probes `address` (host:port) with the `tls_name` certificate from `tls_dir`; never throws.
ComponentStatus ProbeComponent(const std::string& component, const std::string& address,
                               const std::string& tls_dir, const std::string& tls_name,
                               std::chrono::milliseconds timeout);

// "42s", "3m07s", "2h05m", "3d04h".
std::string FormatUptime(int64_t seconds);

}  // namespace holomush::cli
