// Cuts the telnet data stream into lines: CR LF, LF, CR NUL and a bare CR all end a line.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace holomush::gateway {

struct InputLine {
  // Cleaned text (valid UTF-8, no control characters); empty when too_long.
  std::string text;
  // The line was longer than the limit: it was discarded (the player is told once).
  bool too_long = false;
  bool operator==(const InputLine&) const = default;
};

// Owned by one connection, used on its strand. Memory is bounded by `max_bytes`: the bytes
// of an over-long line are dropped as they arrive, not buffered.
class LineSplitter {
 public:
  explicit LineSplitter(size_t max_bytes) : max_bytes_(max_bytes) {}

  // Appends every line completed by `data` to `out`.
  void Feed(std::string_view data, std::vector<InputLine>& out);
  // Bytes of the unfinished line held now.
  size_t pending() const { return buffer_.size(); }

 private:
  void EndLine(std::vector<InputLine>& out);

  size_t max_bytes_;
  std::string buffer_;
  bool overflow_ = false;
  bool after_cr_ = false;  // the previous byte was CR: a following LF or NUL belongs to it
};

}  // namespace holomush::gateway
