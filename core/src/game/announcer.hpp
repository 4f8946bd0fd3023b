// Appends game events through the writer; tells the actor when one could not be stored.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "events/event_writer.hpp"
#include "holomush/common/logging.hpp"
#include "session/registry.hpp"

namespace holomush::core {

// Thread-safe (the writer and registry are). Owned by the game.
class Announcer {
 public:
  Announcer(EventWriter& writer, SessionRegistry& registry)
      : writer_(writer), registry_(registry) {}

  void Append(const std::string& stream, const std::string& type, const Character& actor,
              nlohmann::json payload);

 private:
  EventWriter& writer_;
  SessionRegistry& registry_;
  common::Logger log_{"core"};
};

}  // namespace holomush::core
