// The WebSocket protocol's JSON messages (one per text frame), both directions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace holomush::gateway {

// Up: {"type":"command","line":"say hi"}, or, before login, taking back a session this
// client was given earlier (a browser after a dropped socket or a gateway restart):
// {"type":"resume","session_id":"...","resume_token":"...","last_event_id":"..."}.
struct ClientCommand {
  enum class Kind { kCommand, kResume };
  bool ok = false;
  Kind kind = Kind::kCommand;
  std::string line;           // cleaned (CleanLine), when ok
  std::string session_id;     // kResume
  std::string resume_token;   // kResume
  std::string last_event_id;  // kResume; may be empty (nothing shown yet)
  std::string error;          // one line for the client, when not ok
  bool too_long = false;
};
ClientCommand ParseClientMessage(std::string_view frame, size_t max_line_bytes);

// Down. Every string is made valid UTF-8 first, so encoding never fails.
std::string OutputMessage(std::string_view text);
std::string PromptMessage(std::string_view text);
std::string EchoMessage(bool on);
// `resume`: the session lives on in core and the client may take it back (gateway restart,
// dropped link); false after quit, idle, boot or an ended session.
std::string ClosedMessage(std::string_view reason, bool resume = false);
// The game session is open: what a client keeps to resume it (`session_id`, `resume_token`)
// and the character's name.
std::string SessionMessage(std::string_view session_id, std::string_view resume_token,
                           std::string_view character);
// A `resume` that core refused (session ended or expired): log in again.
std::string ResumeRefusedMessage(std::string_view text);
std::string ErrorMessage(std::string_view text);
struct EventFields {
  std::string_view id;
  std::string_view type;
  std::string_view stream;
  std::string_view actor;
  std::string_view text;
  int64_t unix_millis = 0;
  bool replayed = false;
};
std::string EventMessage(const EventFields& event);

}  // namespace holomush::gateway
