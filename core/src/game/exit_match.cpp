#include "game/exit_match.hpp"

#include <algorithm>

#include "game/command_parser.hpp"

namespace holomush::core {

std::vector<std::string> TypoVariants(const std::string& text) {
  const std::string base = Lower(text);
  std::vector<std::string> out = {base};
  if (base.size() > 64) return out;  // long input: no typo search, and bounded SQL
  // Swap whole UTF-8 sequences, never bytes inside one (that would make invalid text).
  std::vector<std::string> chars;
  for (char c : base) {
    if ((static_cast<unsigned char>(c) & 0xC0) == 0x80 && !chars.empty()) {
      chars.back() += c;
    } else {
      chars.emplace_back(1, c);
    }
  }
  for (size_t i = 0; i + 1 < chars.size(); ++i) {
    if (chars[i] == chars[i + 1]) continue;
    std::string swapped;
    for (size_t j = 0; j < chars.size(); ++j) {
      swapped += j == i ? chars[i + 1] : j == i + 1 ? chars[i] : chars[j];
    }
    if (std::find(out.begin(), out.end(), swapped) == out.end()) out.push_back(swapped);
  }
  return out;
}

std::optional<Exit> RankExits(const std::vector<ExitCandidate>& candidates, double threshold) {
  const ExitCandidate* best = nullptr;
  auto better = [](const ExitCandidate& a, const ExitCandidate& b) {
    if (a.exact != b.exact) return a.exact;
    if (a.similarity != b.similarity) return a.similarity > b.similarity;
    return a.exit.name < b.exit.name;
  };
  for (const auto& c : candidates) {
    if (!c.exact && c.similarity <= threshold) continue;
    if (best == nullptr || better(c, *best)) best = &c;
  }
  if (best == nullptr) return std::nullopt;
  return best->exit;
}

}  // namespace holomush::core
