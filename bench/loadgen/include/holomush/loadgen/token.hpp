// The token a timed message carries: which message it is, who sent it and when it was due.
// It is plain lowercase words and digits so that no server rewrites it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace holomush::loadgen {

enum class TokenKind : uint8_t { kSay, kPose, kPage };

struct Token {
  TokenKind kind = TokenKind::kSay;
  uint64_t id = 0;      // index of the message in the run
  uint32_t sender = 0;  // session index of the sender
  int64_t due_ns = 0;   // scheduled send time, CLOCK_MONOTONIC nanoseconds
};

// "lgtok s 17 3 123456789" followed by `filler` (if any) after a space.
std::string FormatToken(const Token& token, std::string_view filler = {});
// Finds a token anywhere in a line as servers render it (`Name says, "lgtok ..."`).
std::optional<Token> FindToken(std::string_view line);

}  // namespace holomush::loadgen
