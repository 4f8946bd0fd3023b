// The WebSocket protocol's JSON messages (one per text frame), both directions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace holomush::gateway {

// Up: {"type":"command","line":"say hi"}.
struct ClientCommand {
  bool ok = false;
  std::string line;   // cleaned (CleanLine), when ok
  std::string error;  // one line for the client, when not ok
  bool too_long = false;
};
ClientCommand ParseClientMessage(std::string_view frame, size_t max_line_bytes);

// Down. Every string is made valid UTF-8 first, so encoding never fails.
std::string OutputMessage(std::string_view text);
std::string PromptMessage(std::string_view text);
std::string EchoMessage(bool on);
std::string ClosedMessage(std::string_view reason);
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
