#include "holomush/loadgen/schedule.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>

namespace holomush::loadgen {
namespace {

uint64_t SplitMix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

}  // namespace

Rng::Rng(uint64_t seed) {
  uint64_t state = seed;
  for (auto& s : s_) s = SplitMix64(state);
}

uint64_t Rng::Next() {
  const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = Rotl(s_[3], 45);
  return result;
}

double Rng::Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

uint64_t Rng::Below(uint64_t n) {
  // Rejection keeps it exactly uniform; the loop almost never runs twice.
  const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  uint64_t x;
  do {
    x = Next();
  } while (x >= limit);
  return x % n;
}

double Rng::Exponential(double rate) { return -std::log1p(-Uniform()) / rate; }

PoissonSchedule::PoissonSchedule(size_t sessions, double rate_per_session, int64_t start_ns,
                                 uint64_t seed)
    : rate_(rate_per_session), rng_(seed) {
  if (rate_ <= 0) return;
  for (size_t i = 0; i < sessions; ++i) {
    heap_.push({start_ns + Gap(), static_cast<uint32_t>(i)});
  }
}

int64_t PoissonSchedule::Gap() { return static_cast<int64_t>(rng_.Exponential(rate_) * 1e9); }

PoissonSchedule::Arrival PoissonSchedule::Pop() {
  Arrival a = heap_.top();
  heap_.pop();
  heap_.push({a.time_ns + Gap(), a.session});
  return a;
}

WeightedChoice::WeightedChoice(std::vector<double> weights) {
  double total = 0;
  for (double w : weights) {
    if (!(w >= 0)) throw std::invalid_argument("weights must be non-negative");
    total += w;
    cumulative_.push_back(total);
  }
  if (total <= 0) throw std::invalid_argument("at least one weight must be positive");
  for (auto& c : cumulative_) c /= total;
  cumulative_.back() = 1.0;
}

size_t WeightedChoice::Pick(Rng& rng) const {
  const double u = rng.Uniform();
  auto it = std::upper_bound(cumulative_.begin(), cumulative_.end(), u);
  if (it == cumulative_.end()) --it;
  return static_cast<size_t>(it - cumulative_.begin());
}

double WeightedChoice::Share(size_t i) const {
  return i == 0 ? cumulative_[0] : cumulative_[i] - cumulative_[i - 1];
}

WeightedChoice ZipfChoice(size_t rooms, double exponent) {
  std::vector<double> w;
  for (size_t i = 0; i < std::max<size_t>(rooms, 1); ++i) {
    w.push_back(1.0 / std::pow(static_cast<double>(i + 1), exponent));
  }
  return WeightedChoice(std::move(w));
}

const char* ActionName(ActionKind kind) {
  switch (kind) {
    case ActionKind::kSay:
      return "say";
    case ActionKind::kPose:
      return "pose";
    case ActionKind::kLook:
      return "look";
    case ActionKind::kMove:
      return "move";
    case ActionKind::kPage:
      return "page";
  }
  return "?";
}

std::vector<double> ParseMix(const std::string& text) {
  std::vector<double> weights(kActionKinds, 0.0);
  std::stringstream in(text);
  for (std::string part; std::getline(in, part, ',');) {
    const auto eq = part.find('=');
    if (eq == std::string::npos) throw std::invalid_argument("mix part '" + part + "' lacks '='");
    const std::string name = part.substr(0, eq);
    size_t used = 0;
    double value = 0;
    try {
      value = std::stod(part.substr(eq + 1), &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != part.size() - eq - 1 || value < 0) {
      throw std::invalid_argument("mix weight in '" + part + "' is not a non-negative number");
    }
    bool known = false;
    for (size_t k = 0; k < kActionKinds; ++k) {
      if (name == ActionName(static_cast<ActionKind>(k))) {
        weights[k] = value;
        known = true;
      }
    }
    if (!known) {
      throw std::invalid_argument("mix names unknown action '" + name +
                                  "' (say, pose, look, move, page)");
    }
  }
  double total = 0;
  for (double w : weights) total += w;
  if (total <= 0) throw std::invalid_argument("mix '" + text + "' has no positive weight");
  return weights;
}

}  // namespace holomush::loadgen
