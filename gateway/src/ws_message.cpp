#include "ws_message.hpp"

#include <nlohmann/json.hpp>

#include "text.hpp"

namespace holomush::gateway {
namespace {

using nlohmann::json;

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

}  // namespace

ClientCommand ParseClientMessage(std::string_view frame, size_t max_line_bytes) {
  ClientCommand out;
  const json j = json::parse(frame, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    out.error = R"(Send JSON objects like {"type":"command","line":"look"}.)";
    return out;
  }
  const auto type = j.find("type");
  if (type == j.end() || !type->is_string() || type->get_ref<const std::string&>() != "command") {
    out.error = R"(Unknown message type; send {"type":"command","line":"..."}.)";
    return out;
  }
  const auto line = j.find("line");
  if (line == j.end() || !line->is_string()) {
    out.error = R"(A command needs a "line" string.)";
    return out;
  }
  const auto& raw = line->get_ref<const std::string&>();
  if (raw.size() > max_line_bytes) {
    out.too_long = true;
    out.error = "That line was too long (more than " + std::to_string(max_line_bytes) +
                " bytes); it was ignored.";
    return out;
  }
  out.ok = true;
  out.line = CleanLine(raw);
  return out;
}

std::string OutputMessage(std::string_view text) {
  return Dump({{"type", "output"}, {"text", SanitizeUtf8(text)}});
}

std::string PromptMessage(std::string_view text) {
  return Dump({{"type", "prompt"}, {"text", SanitizeUtf8(text)}});
}

std::string EchoMessage(bool on) { return Dump({{"type", "echo"}, {"on", on}}); }

std::string ClosedMessage(std::string_view reason) {
  return Dump({{"type", "closed"}, {"reason", SanitizeUtf8(reason)}});
}

std::string ErrorMessage(std::string_view text) {
  return Dump({{"type", "error"}, {"text", SanitizeUtf8(text)}});
}

std::string EventMessage(const EventFields& e) {
  return Dump({{"type", "event"},
               {"id", SanitizeUtf8(e.id)},
               {"event", SanitizeUtf8(e.type)},
               {"stream", SanitizeUtf8(e.stream)},
               {"actor", SanitizeUtf8(e.actor)},
               {"text", SanitizeUtf8(e.text)},
               {"time", e.unix_millis},
               {"replayed", e.replayed}});
}

}  // namespace holomush::gateway
