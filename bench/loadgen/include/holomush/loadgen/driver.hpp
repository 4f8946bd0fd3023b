// The load driver: N telnet players log in, take their places in skewed rooms, then act on
// an open-loop Poisson schedule while every timed message is matched to its recipients.
// One thread (epoll) runs every connection; ProcSampler watches the servers beside it.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace holomush::loadgen {

struct RunConfig {
  std::string label;  // scenario name for the report
  std::string target = "holomush";
  std::string host = "127.0.0.1";
  int port = 4201;
  size_t sessions = 100;
  double rate = 0.1;  // actions per second per session; 0: log in and stay idle
  double warmup_s = 5;
  double duration_s = 30;
  double drain_s = 10;  // at most; ends after a second without a timed message
  std::string mix = "say=40,pose=20,look=20,move=10,page=10";
  size_t rooms = 10;
  double zipf = 1.0;
  uint64_t seed = 1;
  std::string prefix = "Lg";  // letters: player names are prefix + four letters
  std::string password = "benchpass1";
  bool create = true;  // create the accounts (fresh prefix) or connect to existing ones
  size_t login_concurrency = 16;
  double login_timeout_s = 60;  // per session, from its connect
  size_t filler_bytes = 40;     // text after each token, for realistic line lengths
  // Reconnect storms: every drop_every_s of the measured window, drop_fraction of the
  // players lose their connection (RST) and come back after drop_pause_s.
  double drop_fraction = 0;
  double drop_every_s = 0;
  double drop_pause_s = 2;
  // Idle memory: log in this many sessions step by step and sample memory after each.
  std::vector<size_t> idle_steps;
  double settle_s = 3;
  std::map<std::string, pid_t> watch;  // group name -> root pid (descendants included)
  std::map<std::string, std::string> meta;
  // Shell commands run at the edges of the measured window (e.g. to switch a profiler on
  // and off; on a thread of their own, not awaited), and after the run: each `measures`
  // command's output is recorded as a number.
  // They see LOADGEN_WINDOW_START and LOADGEN_WINDOW_END (Unix seconds) in the environment.
  std::string on_window_start;
  std::string on_window_end;
  std::map<std::string, std::string> measures;
  // Log in (or create) and leave at once, without walking to a room: makes the accounts a
  // later run logs in to with `connect`.
  bool accounts_only = false;
  // The abuse scenario: one attacker, from `attack_host` (the machine's own non-loopback
  // address, so that the gateway applies its per-address limits), attacks for
  // `attack_lead_s` alone, then on while the players log in and play, until the window
  // closes. See attack.hpp for the kinds.
  std::string attack;  // "", prelogin, wrongpass, flood, noread
  std::string attack_host;
  size_t attack_count = 0;  // connections; 0: the kind's default
  double attack_rate = 0;   // wrongpass: attempts/s (0: 200); noread: commands/s per login (0: 9)
  // noread: what the logged-in non-readers ask for and never read (`who`: about 1 kB each).
  std::string attack_command = "who";
  double attack_lead_s = 5;   // seconds the attack runs before the players log in
  double attack_retry_s = 1;  // a connection the server closed comes back after this (0: never)
  std::string attack_prefix = "Ax";  // the attacker's existing accounts (flood, noread)
  size_t attack_accounts = 50;       // noread: how many non-readers log in
  size_t attack_room = 0;            // the room flood and noread go to (0: the busiest)
  int attack_rcvbuf = 4096;          // noread: receive buffer, so the server's queue fills
};

// Runs one scenario and returns its figures (config, results, meta) as JSON.
nlohmann::json RunScenario(const RunConfig& config);

// Prints the headline figures of a scenario's JSON for humans.
std::string Summary(const nlohmann::json& result);

}  // namespace holomush::loadgen
