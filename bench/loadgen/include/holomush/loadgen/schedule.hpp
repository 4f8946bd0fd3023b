// Seeded randomness for the load generator: the open-loop Poisson schedule, the action mix
// and the skewed (Zipf) choice of rooms. Everything here is deterministic for a given seed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <queue>
#include <string>
#include <vector>

namespace holomush::loadgen {

// xoshiro256** seeded through splitmix64: fast, and the same sequence on every platform
// (std::exponential_distribution and friends are not specified bit for bit).
class Rng {
 public:
  explicit Rng(uint64_t seed);
  uint64_t Next();
  // Uniform in [0, 1).
  double Uniform();
  // Uniform integer in [0, n); n > 0.
  uint64_t Below(uint64_t n);
  // Exponentially distributed with the given rate (> 0): mean 1/rate.
  double Exponential(double rate);

 private:
  uint64_t s_[4];
};

// Every session acts on its own Poisson process of `rate_per_session` actions per second,
// whatever the server answers (open loop). Pop() hands out arrivals in time order.
// Owned and used by one thread.
class PoissonSchedule {
 public:
  struct Arrival {
    int64_t time_ns;
    uint32_t session;
  };

  PoissonSchedule(size_t sessions, double rate_per_session, int64_t start_ns, uint64_t seed);
  bool Empty() const { return heap_.empty(); }
  int64_t NextTime() const { return heap_.top().time_ns; }
  // The earliest arrival; that session's next arrival is scheduled in its place.
  Arrival Pop();

 private:
  struct Later {
    bool operator()(const Arrival& a, const Arrival& b) const {
      return a.time_ns != b.time_ns ? a.time_ns > b.time_ns : a.session > b.session;
    }
  };
  int64_t Gap();

  double rate_;
  Rng rng_;
  std::priority_queue<Arrival, std::vector<Arrival>, Later> heap_;
};

// Picks an index with probability proportional to its weight.
class WeightedChoice {
 public:
  explicit WeightedChoice(std::vector<double> weights);
  size_t Pick(Rng& rng) const;
  size_t size() const { return cumulative_.size(); }
  // Probability of index i.
  double Share(size_t i) const;

 private:
  std::vector<double> cumulative_;
};

// Room i (0-based) is chosen with probability proportional to 1 / (i + 1)^exponent:
// exponent 0 is uniform, 1 is the classic Zipf skew (room 0 busiest).
WeightedChoice ZipfChoice(size_t rooms, double exponent);

enum class ActionKind : uint8_t { kSay, kPose, kLook, kMove, kPage };
inline constexpr size_t kActionKinds = 5;
const char* ActionName(ActionKind kind);

// "say=40,pose=20,look=20,move=10,page=10": weights per action (missing ones are 0).
// Throws std::invalid_argument naming the bad part.
std::vector<double> ParseMix(const std::string& text);

}  // namespace holomush::loadgen
