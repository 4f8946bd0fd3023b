#include "ws_message.hpp"

#include <nlohmann/json.hpp>

#include "text.hpp"

namespace holomush::gateway {
namespace {

using nlohmann::json;

// Text reaches here valid UTF-8 (see ToTelnetText); should anything else slip in, the
// encoder writes U+FFFD for it rather than throw.
std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// Session ids, resume tokens and event ids are short printable ASCII; anything else is refused.
constexpr size_t kMaxIdBytes = 128;
bool ReadId(const json& j, const char* key, bool required, std::string& out) {
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) return !required;
  if (!it->is_string()) return false;
  const auto& s = it->get_ref<const std::string&>();
  if (s.size() > kMaxIdBytes || (required && s.empty())) return false;
  for (const char c : s) {
    if (c <= ' ' || c > '~') return false;
  }
  out = s;
  return true;
}

ClientCommand ParseResume(const json& j) {
  ClientCommand out;
  out.kind = ClientCommand::Kind::kResume;
  if (!ReadId(j, "session_id", true, out.session_id) ||
      !ReadId(j, "resume_token", true, out.resume_token) ||
      !ReadId(j, "last_event_id", false, out.last_event_id)) {
    out.error = R"(A resume needs "session_id" and "resume_token" strings.)";
    return out;
  }
  out.ok = true;
  return out;
}

}  // namespace

ClientCommand ParseClientMessage(std::string_view frame, size_t max_line_bytes) {
  ClientCommand out;
  const json j = json::parse(frame, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    out.error = R"(Send JSON objects like {"type":"command","line":"look"}.)";
    return out;
  }
  const auto type = j.find("type");
  if (type != j.end() && type->is_string() && type->get_ref<const std::string&>() == "resume") {
    return ParseResume(j);
  }
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
  return Dump({{"type", "output"}, {"text", text}});
}

std::string PromptMessage(std::string_view text) {
  return Dump({{"type", "prompt"}, {"text", text}});
}

std::string EchoMessage(bool on) { return Dump({{"type", "echo"}, {"on", on}}); }

std::string ClosedMessage(std::string_view reason, bool resume) {
  return Dump({{"type", "closed"}, {"reason", reason}, {"resume", resume}});
}

std::string SessionMessage(std::string_view session_id, std::string_view resume_token,
                           std::string_view character) {
  return Dump({{"type", "session"},
               {"session_id", session_id},
               {"resume_token", resume_token},
               {"character", character}});
}

std::string ResumeRefusedMessage(std::string_view text) {
  return Dump({{"type", "resume_refused"}, {"text", text}});
}

std::string ErrorMessage(std::string_view text) {
  return Dump({{"type", "error"}, {"text", text}});
}

std::string EventMessage(const EventFields& e) {
  return Dump({{"type", "event"},
               {"id", e.id},
               {"event", e.type},
               {"stream", e.stream},
               {"actor", e.actor},
               {"text", e.text},
               {"time", e.unix_millis},
               {"replayed", e.replayed}});
}

}  // namespace holomush::gateway
