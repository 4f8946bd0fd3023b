// Turns the bytes a MUSH server sends into text lines: telnet commands and option
// negotiation (IAC ...), ANSI escape sequences, CR and NUL are removed; LF ends a line.
// Owned by one connection, on the load generator's thread.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace holomush::loadgen {

class TelnetLineReader {
 public:
  // A line longer than this is handed out in pieces rather than held forever.
  static constexpr size_t kMaxLine = 65536;

  // Appends every line completed by `bytes` to `lines` (without its line end); a partial
  // line waits for the next call.
  void Feed(std::string_view bytes, std::vector<std::string>& lines);
  // The text received since the last line end (a prompt, say).
  const std::string& partial() const { return partial_; }
  void Reset();

 private:
  enum class State { kData, kIac, kOption, kSub, kSubIac, kEsc, kCsi };
  State state_ = State::kData;
  std::string partial_;
};

}  // namespace holomush::loadgen
