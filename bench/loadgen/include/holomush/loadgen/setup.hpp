// Builds the bench world once per fresh server: rooms "Bench Room 0..N-1" off the start
// room, each reached by exit b<i> and left by exit "out". Blocking; run before a scenario.
#pragma once

#include <string>

namespace holomush::loadgen {

struct SetupConfig {
  std::string target = "holomush";
  std::string host = "127.0.0.1";
  int port = 4201;
  size_t rooms = 100;
  // HoloMUSH: the admin account (bench/run makes it with `holomush admin create`). TinyMUX uses its
  // wizard.
  std::string admin = "benchadmin";
  std::string password = "benchpass1";
  double timeout_s = 30;
};

// Throws std::runtime_error with what the server last said when a step fails.
void BuildWorld(const SetupConfig& config);

}  // namespace holomush::loadgen
