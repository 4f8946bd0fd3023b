#include "game/announcer.hpp"

#include "game/game.hpp"

namespace holomush::core {

void Announcer::Append(const std::string& stream, const std::string& type, const Character& actor,
                       nlohmann::json payload) {
  EventRecord e;
  e.stream = stream;
  e.type = type;
  e.actor_id = actor.id;
  e.actor_name = actor.name;
  e.payload = std::move(payload);
  writer_.Append(std::move(e),
                 [this, actor_id = actor.id](const common::Status& status, const EventRecord&) {
                   if (status) return;
                   log_.Warn("event append failed", {{"error", status.error().message}});
                   // Tell the actor's sessions in this process that their action did not happen.
                   for (const auto& s : registry_.All()) {
                     if (s->character().id == actor_id) {
                       s->Output("That did not happen: " + std::string(kUnavailable));
                     }
                   }
                 });
}

}  // namespace holomush::core
