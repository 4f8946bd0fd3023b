// The abuse scenario's attacker, its pure parts: which attack, its defaults, what the server
// answered the attacker (one class per reply line) and the evenly paced schedule of the
// wrong-password attempts. The driver runs the attacker's connections on its epoll thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace holomush::loadgen {

enum class AttackKind : uint8_t {
  kNone,
  kPreLogin,   // connect, never log in, hold the connections open
  kWrongPass,  // `connect <real user> <wrong password>` at a fixed rate
  kFlood,      // one logged-in player sends `say` as fast as its socket allows
  kNoRead,     // connections (some logged in, in the busiest room) that never read
};

// "", "none", "prelogin", "wrongpass", "flood", "noread"; throws std::invalid_argument
// naming the choices otherwise.
AttackKind ParseAttack(std::string_view text);
const char* AttackName(AttackKind kind);
// Connections the attack opens when --attack-count is 0: 1,000 pre-login, 20 carrying the
// wrong passwords, 1 flooder, 500 non-readers.
size_t DefaultAttackCount(AttackKind kind);

// What one line the server sent to the attacker means.
enum class AttackReply : uint8_t {
  kOther,
  kBanner,           // the first line of the greeting: the gateway admitted the connection
  kAddressFull,      // refused at connect: too many connections from the address
  kServerFull,       // refused at connect: the global connection limit
  kLoginThrottled,   // the gateway's per-address login rate
  kCreateThrottled,  // the gateway's per-address account creation rate
  kBadPassword,      // core checked the password: wrong
  kBackoff,          // core's per-(account, address) backoff: "try again in N seconds"
  kBusy,             // core's password queue or command backlog is full
  kTooFast,          // core's per-session command rate
  kNotTaken,         // the gateway's queue of commands for core is full for this session
  kSayEcho,          // "You say, ...": a flooded say that core ran
  kLoggedIn,         // a room title or the welcome after a successful login
  kGoodbye,
};
inline constexpr size_t kAttackReplies = 14;

const char* AttackReplyName(AttackReply reply);
AttackReply ClassifyAttackReply(std::string_view line);
// The N of "... try again in N seconds." (core's login backoff), if the line says it.
std::optional<int> BackoffSeconds(std::string_view line);

// Attempts at a fixed rate from `start_ns`: attempt k is due at start + k / rate. Due(now)
// says how many are due in all by `now`, so a late caller catches up rather than drifting.
class PacedSchedule {
 public:
  PacedSchedule(double rate_per_s, int64_t start_ns);
  // Total attempts due at or before `now_ns` (0 before the start; none at a rate of 0).
  uint64_t Due(int64_t now_ns) const;
  // When attempt `k` (0-based) is due.
  int64_t At(uint64_t k) const;

 private:
  double rate_;
  int64_t start_ns_;
};

}  // namespace holomush::loadgen
