// Which exit a player meant: exact name or alias first, then the most similar above a threshold.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/store.hpp"

namespace holomush::core {

// An exit scored against what the player typed. Points into the exits it was scored from.
struct ExitCandidate {
  const Exit* exit = nullptr;
  bool exact = false;       // the name or an alias equals the text, ignoring case
  double similarity = 0.0;  // best trigram similarity over the name and aliases
};

// What the player typed plus each version of it with two neighbouring letters swapped.
// Trigram similarity punishes a transposition hard (similarity('north', 'nroth') is 0.2),
// yet it is the commonest typo; scoring the swapped versions too lets `nroth` find `north`
// while the threshold still applies to the plain similarity. Lower-cased, no duplicates.
std::vector<std::string> TypoVariants(const std::string& text);

// pg_trgm's similarity(), in memory: each run of letters and digits (ASCII ones lower-cased;
// any non-ASCII character counts as a letter) padded with two spaces before and one after,
// cut into its three-character windows; shared distinct trigrams over all distinct ones, in
// single precision as PostgreSQL computes it. 0 when either side has none. Pure.
float TrigramSimilarity(std::string_view a, std::string_view b);

// Every exit scored against `text` (exact: its name or an alias equals it, ignoring case)
// and, when none is exact, by its best TrigramSimilarity between the name or an alias and
// any of `variants`. Pure; the candidates point into `exits`.
std::vector<ExitCandidate> ScoreExits(const std::vector<Exit>& exits, const std::string& text,
                                      const std::vector<std::string>& variants);

// Pure. Exact matches win; otherwise the highest similarity strictly above `threshold`;
// ties go to the alphabetically first name so the choice is stable.
std::optional<Exit> RankExits(const std::vector<ExitCandidate>& candidates, double threshold);

}  // namespace holomush::core
