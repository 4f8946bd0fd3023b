// Idle players held beside a scenario: existing accounts log in, then say nothing and read
// everything, as many idle telnet players do, until the process is told to stop.
#pragma once

#include <cstddef>
#include <string>

namespace holomush::loadgen {

struct HoldConfig {
  std::string host = "127.0.0.1";
  int port = 4201;
  size_t sessions = 0;
  std::string prefix = "Idl";  // names as the players of `run` get them (Dialect::PlayerName)
  std::string password = "benchpass1";
  size_t login_concurrency = 64;
  double login_timeout_s = 60;  // without one more login done, the rest are given up
};

// Logs the players in, calls `ready(held)` once every login has ended (held: how many are
// in), then reads and drops what they are sent until SIGINT or SIGTERM. Returns `held`.
size_t HoldIdleSessions(const HoldConfig& config, void (*ready)(size_t held));

}  // namespace holomush::loadgen
