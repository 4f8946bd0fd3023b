#include "game/render.hpp"

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

const std::vector<std::string>& KnownEventTypes() {
  static const std::vector<std::string> kTypes = {
      "say", "pose", "emit", "page", "leave", "arrive", "connect", "disconnect", "system", "boot"};
  return kTypes;
}

}  // namespace holomush::core
