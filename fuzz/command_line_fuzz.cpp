// Fuzzes the pre-login command splitter (create/connect/play/who/quit).
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "command_line.hpp"
#include "text.hpp"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string raw(reinterpret_cast<const char*>(data), size);
  const std::string line = holomush::gateway::CleanLine(raw);
  for (size_t max_parts = 1; max_parts <= 4; ++max_parts) {
    const auto words = holomush::gateway::SplitWords(line, max_parts);
    Check(words.size() <= max_parts);
    std::string joined;
    std::string squeezed;
    for (size_t i = 0; i < words.size(); ++i) {
      Check(!words[i].empty());
      Check(words[i].front() != ' ' && words[i].back() != ' ');
      if (i + 1 < words.size()) Check(words[i].find(' ') == std::string::npos);
      joined += words[i];
    }
    for (const char c : line) {
      if (c != ' ') squeezed.push_back(c);
    }
    std::string joined_squeezed;
    for (const char c : joined) {
      if (c != ' ') joined_squeezed.push_back(c);
    }
    Check(joined_squeezed == squeezed);
  }
  const auto cmd = holomush::gateway::ParsePreLogin(line);
  using Verb = holomush::gateway::PreLoginCommand::Verb;
  Check((cmd.verb == Verb::kEmpty) == (line.find_first_not_of(' ') == std::string::npos));
  Check(cmd.username.find(' ') == std::string::npos);
  return 0;
}
