#include "game/exit_match.hpp"

#include <algorithm>

#include "game/command_parser.hpp"

namespace holomush::core {

std::vector<std::string> TypoVariants(const std::string& text) {
  const std::string base = Lower(text);
  std::vector<std::string> out = {base};
  if (base.size() > 64) return out;  // long input: no typo search, and bounded SQL
  for (size_t i = 0; i + 1 < base.size(); ++i) {
    if (base[i] == base[i + 1]) continue;
    std::string swapped = base;
    std::swap(swapped[i], swapped[i + 1]);
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
