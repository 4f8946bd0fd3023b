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
};

// Runs one scenario and returns its figures (config, results, meta) as JSON.
nlohmann::json RunScenario(const RunConfig& config);

// Prints the headline figures of a scenario's JSON for humans.
std::string Summary(const nlohmann::json& result);

}  // namespace holomush::loadgen
