#include "game/render.hpp"

#include <optional>

namespace holomush::core {
namespace {

std::string Field(const EventRecord& e, const char* key) {
  auto it = e.payload.find(key);
  if (it == e.payload.end() || !it->is_string()) return "";
  return it->get<std::string>();
}

// A boolean field; false when missing or of another type (a payload is never trusted to
// have the shape this version writes).
bool Flag(const EventRecord& e, const char* key) {
  auto it = e.payload.find(key);
  return it != e.payload.end() && it->is_boolean() && it->get<bool>();
}

}  // namespace

std::string RenderEvent(const EventRecord& e, const std::string& viewer) {
  const bool own = !e.actor_id.empty() && e.actor_id == viewer;
  const std::string& name = e.actor_name;
  if (e.type == "say") {
    const std::string msg = Field(e, "message");
    return own ? "You say, \"" + msg + "\"" : name + " says, \"" + msg + "\"";
  }
  if (e.type == "pose") {
    const std::string action = Field(e, "action");
    if (Flag(e, "nospace")) return name + action;
    return name + " " + action;
  }
  if (e.type == "emit") return Field(e, "text");
  if (e.type == "arrive") return own ? "" : name + " has arrived.";
  if (e.type == "leave") {
    if (own) return "";
    const std::string exit = Field(e, "exit");
    return exit.empty() ? name + " has left." : name + " leaves " + exit + ".";
  }
  if (e.type == "page") {
    return own ? "You page " + Field(e, "to") + ": " + Field(e, "message")
               : name + " pages: " + Field(e, "message");
  }
  if (e.type == "connect") return own ? "" : name + " has connected.";
  if (e.type == "disconnect") return own ? "" : name + " has disconnected.";
  if (e.type == "system") {
    const std::string text = Field(e, "text");
    return name.empty() ? text : "Announcement from " + name + ": " + text;
  }
  return Field(e, "text");
}

const std::string& RenderEventOnce(const EventRecord& event,
                                   const std::string& viewer_character_id) {
  struct Last {
    std::string id;
    std::optional<std::string> text[2];  // [0]: anyone else, [1]: the actor
  };
  thread_local Last last;
  if (event.id.empty() || event.id != last.id) {
    last.id = event.id;  // an event without an id (never stored) is never taken for another
    last.text[0].reset();
    last.text[1].reset();
  }
  const bool own = !event.actor_id.empty() && event.actor_id == viewer_character_id;
  auto& text = last.text[own ? 1 : 0];
  if (!text || event.id.empty()) text = RenderEvent(event, viewer_character_id);
  return *text;
}

const std::vector<std::string>& KnownEventTypes() {
  static const std::vector<std::string> kTypes = {
      "say", "pose", "emit", "page", "leave", "arrive", "connect", "disconnect", "system", "boot"};
  return kTypes;
}

}  // namespace holomush::core
