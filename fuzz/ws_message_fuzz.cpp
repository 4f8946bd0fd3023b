// Fuzzes the WebSocket client message parser and the JSON we send back.
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "text.hpp"
#include "ws_message.hpp"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view frame(reinterpret_cast<const char*>(data), size);
  const auto command = holomush::gateway::ParseClientMessage(frame, 64);
  if (command.ok) {
    Check(command.error.empty());
    Check(holomush::gateway::SanitizeUtf8(command.line) == command.line);
    Check(command.line.size() <= 3 * 64);
  } else {
    Check(!command.error.empty());
  }
  // Whatever text goes down, the frame is valid JSON that carries it back (repaired).
  const auto j = nlohmann::json::parse(holomush::gateway::OutputMessage(frame), nullptr, false);
  Check(!j.is_discarded() &&
        j["text"].get<std::string>() == holomush::gateway::SanitizeUtf8(frame));
  return 0;
}
