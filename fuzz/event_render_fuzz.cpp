// Fuzzes how an event's stored payload reads to a player: whatever JSON a row holds (another
// replica's, an older version's, a hand-edited one), rendering never throws or crashes.
#include <cstdint>
#include <string>
#include <vector>

#include "game/render.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace holomush::core;
  if (size < 2) return 0;
  static const std::vector<std::string> kTypes = {"say",    "pose",  "emit",    "page",
                                                  "arrive", "leave", "connect", "disconnect",
                                                  "system", "boot",  "move",    "unknown"};
  EventRecord e;
  e.type = kTypes[data[0] % kTypes.size()];
  e.actor_id = data[1] % 2 == 0 ? "actor" : "other";
  e.actor_name = "Ana";
  auto payload = nlohmann::json::parse(data + 2, data + size, nullptr, /*allow_exceptions=*/false);
  e.payload = payload.is_discarded() ? nlohmann::json::object() : payload;
  (void)RenderEvent(e, "actor");
  (void)RenderEvent(e, "viewer");
  return 0;
}
