#include "game/exit_match.hpp"

#include <algorithm>

#include "game/command_parser.hpp"

namespace holomush::core {
namespace {

using TrigramSet = std::vector<std::string>;  // sorted, distinct

bool IsWordByte(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80;
}

TrigramSet Trigrams(std::string_view text) {
  TrigramSet out;
  std::vector<std::string_view> chars;
  std::string word;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && !IsWordByte(static_cast<unsigned char>(text[i]))) ++i;
    if (i == text.size()) break;
    word = "  ";
    while (i < text.size() && IsWordByte(static_cast<unsigned char>(text[i]))) {
      const char c = text[i++];
      word += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    }
    word += ' ';
    // Whole UTF-8 characters: a continuation byte belongs to the character before it.
    chars.clear();
    for (size_t start = 0; start < word.size();) {
      size_t end = start + 1;
      while (end < word.size() && (static_cast<unsigned char>(word[end]) & 0xC0) == 0x80) ++end;
      chars.emplace_back(word.data() + start, end - start);
      start = end;
    }
    for (size_t k = 0; k + 2 < chars.size(); ++k) {
      std::string trigram(chars[k]);
      trigram += chars[k + 1];
      trigram += chars[k + 2];
      out.push_back(std::move(trigram));
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

float Similarity(const TrigramSet& a, const TrigramSet& b) {
  if (a.empty() || b.empty()) return 0.0F;
  size_t shared = 0;
  for (auto x = a.begin(), y = b.begin(); x != a.end() && y != b.end();) {
    if (*x < *y) {
      ++x;
    } else if (*y < *x) {
      ++y;
    } else {
      ++shared, ++x, ++y;
    }
  }
  return static_cast<float>(shared) / static_cast<float>(a.size() + b.size() - shared);
}

}  // namespace

float TrigramSimilarity(std::string_view a, std::string_view b) {
  return Similarity(Trigrams(a), Trigrams(b));
}

std::vector<ExitCandidate> ScoreExits(const std::vector<Exit>& exits, const std::string& text,
                                      const std::vector<std::string>& variants) {
  std::vector<ExitCandidate> out;
  out.reserve(exits.size());
  bool any_exact = false;
  for (const auto& e : exits) {
    bool exact = common::AsciiEqualIgnoringCase(e.name, text);
    for (const auto& a : e.aliases) exact = exact || common::AsciiEqualIgnoringCase(a, text);
    any_exact = any_exact || exact;
    out.push_back({&e, exact, 0.0});
  }
  // Similarity only matters when nothing matches exactly.
  if (any_exact || variants.empty()) return out;
  std::vector<TrigramSet> wanted;
  wanted.reserve(variants.size());
  for (const auto& v : variants) wanted.push_back(Trigrams(v));
  for (auto& c : out) {
    auto best_against = [&](const std::string& name) {
      const TrigramSet have = Trigrams(name);
      for (const auto& w : wanted) {
        c.similarity = std::max(c.similarity, static_cast<double>(Similarity(have, w)));
      }
    };
    best_against(c.exit->name);
    for (const auto& a : c.exit->aliases) best_against(a);
  }
  return out;
}

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
    return a.exit->name < b.exit->name;
  };
  for (const auto& c : candidates) {
    if (!c.exact && c.similarity <= threshold) continue;
    if (best == nullptr || better(c, *best)) best = &c;
  }
  if (best == nullptr) return std::nullopt;
  return *best->exit;
}

}  // namespace holomush::core
