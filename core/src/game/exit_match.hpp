// Which exit a player meant: exact name or alias first, then the most similar above a threshold.
#pragma once

#include <optional>
#include <vector>

#include "store/store.hpp"

namespace holomush::core {

// Pure. Exact matches win; otherwise the highest similarity strictly above `threshold`;
// ties go to the alphabetically first name so the choice is stable.
std::optional<Exit> RankExits(const std::vector<ExitCandidate>& candidates, double threshold);

}  // namespace holomush::core
