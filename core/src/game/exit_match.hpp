// Which exit a player meant: exact name or alias first, then the most similar above a threshold.
#pragma once

#include <optional>
#include <vector>

#include "store/store.hpp"

namespace holomush::core {

// What the player typed plus each version of it with two neighbouring letters swapped.
// Trigram similarity punishes a transposition hard (similarity('north', 'nroth') is 0.2),
// yet it is the commonest typo; scoring the swapped versions too lets `nroth` find `north`
// while the threshold still applies to pg_trgm's similarity(). Lower-cased, no duplicates.
std::vector<std::string> TypoVariants(const std::string& text);

// Pure. Exact matches win; otherwise the highest similarity strictly above `threshold`;
// ties go to the alphabetically first name so the choice is stable.
std::optional<Exit> RankExits(const std::vector<ExitCandidate>& candidates, double threshold);

}  // namespace holomush::core
