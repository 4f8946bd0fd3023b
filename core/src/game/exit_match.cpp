#include "game/exit_match.hpp"

namespace holomush::core {

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
