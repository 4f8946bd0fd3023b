#include "line_splitter.hpp"

#include <cstdint>

#include "text.hpp"

namespace holomush::gateway {

void LineSplitter::Feed(std::string_view data, std::vector<InputLine>& out) {
  for (const char ch : data) {
    const auto b = static_cast<uint8_t>(ch);
    if (after_cr_) {
      after_cr_ = false;
      if (b == '\n' || b == '\0') continue;
    }
    if (b == '\r') {
      after_cr_ = true;
      EndLine(out);
    } else if (b == '\n') {
      EndLine(out);
    } else if (b == 0x08 || b == 0x7F) {
      // Backspace or DEL from a client in character mode: erase the last code point.
      while (!buffer_.empty() && (static_cast<uint8_t>(buffer_.back()) & 0xC0) == 0x80) {
        buffer_.pop_back();
      }
      if (!buffer_.empty()) buffer_.pop_back();
    } else if (overflow_) {
      continue;
    } else if (buffer_.size() >= max_bytes_) {
      overflow_ = true;
      buffer_.clear();
      buffer_.shrink_to_fit();
    } else {
      buffer_.push_back(ch);
    }
  }
}

void LineSplitter::EndLine(std::vector<InputLine>& out) {
  if (overflow_) {
    out.push_back(InputLine{.text = {}, .too_long = true});
    overflow_ = false;
  } else {
    out.push_back(InputLine{.text = CleanLine(buffer_), .too_long = false});
  }
  buffer_.clear();
}

}  // namespace holomush::gateway
