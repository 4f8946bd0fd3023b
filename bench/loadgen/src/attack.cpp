#include "holomush/loadgen/attack.hpp"

#include <cmath>
#include <cstdint>
#include <stdexcept>

namespace holomush::loadgen {

AttackKind ParseAttack(std::string_view text) {
  if (text.empty() || text == "none") return AttackKind::kNone;
  if (text == "prelogin") return AttackKind::kPreLogin;
  if (text == "wrongpass") return AttackKind::kWrongPass;
  if (text == "flood") return AttackKind::kFlood;
  if (text == "noread") return AttackKind::kNoRead;
  throw std::invalid_argument("unknown attack '" + std::string(text) +
                              "' (none, prelogin, wrongpass, flood, noread)");
}

const char* AttackName(AttackKind kind) {
  switch (kind) {
    case AttackKind::kNone:
      return "none";
    case AttackKind::kPreLogin:
      return "prelogin";
    case AttackKind::kWrongPass:
      return "wrongpass";
    case AttackKind::kFlood:
      return "flood";
    case AttackKind::kNoRead:
      return "noread";
  }
  return "?";
}

size_t DefaultAttackCount(AttackKind kind) {
  switch (kind) {
    case AttackKind::kNone:
      return 0;
    case AttackKind::kPreLogin:
      return 1000;
    case AttackKind::kWrongPass:
      return 20;
    case AttackKind::kFlood:
      return 1;
    case AttackKind::kNoRead:
      return 500;
  }
  return 0;
}

const char* AttackReplyName(AttackReply reply) {
  switch (reply) {
    case AttackReply::kOther:
      return "other";
    case AttackReply::kBanner:
      return "banner";
    case AttackReply::kAddressFull:
      return "refused_address";
    case AttackReply::kServerFull:
      return "refused_full";
    case AttackReply::kLoginThrottled:
      return "login_throttled";
    case AttackReply::kCreateThrottled:
      return "create_throttled";
    case AttackReply::kBadPassword:
      return "bad_password";
    case AttackReply::kBackoff:
      return "backoff";
    case AttackReply::kBusy:
      return "busy";
    case AttackReply::kTooFast:
      return "too_fast";
    case AttackReply::kNotTaken:
      return "not_taken";
    case AttackReply::kSayEcho:
      return "say_echo";
    case AttackReply::kLoggedIn:
      return "logged_in";
    case AttackReply::kGoodbye:
      return "goodbye";
  }
  return "?";
}

AttackReply ClassifyAttackReply(std::string_view line) {
  auto has = [&](std::string_view phrase) { return line.find(phrase) != std::string_view::npos; };
  auto starts = [&](std::string_view phrase) { return line.rfind(phrase, 0) == 0; };
  // The gateway's and core's own words (gateway/src/connection.hpp, login_dialogue.cpp,
  // player_session.cpp, core/src/game/accounts.cpp, game.cpp).
  if (starts("Welcome to HoloMUSH")) return AttackReply::kBanner;
  if (has("Too many connections from your address")) return AttackReply::kAddressFull;
  if (has("the game is full right now")) return AttackReply::kServerFull;
  if (has("Too many login attempts from your address")) return AttackReply::kLoginThrottled;
  if (has("Too many accounts created from your address")) return AttackReply::kCreateThrottled;
  if (has("Too many failed logins from your address")) return AttackReply::kBackoff;
  if (starts("Invalid username or password")) return AttackReply::kBadPassword;
  if (has("The server is busy")) return AttackReply::kBusy;
  if (has("sending commands too fast")) return AttackReply::kTooFast;
  if (has("The game did not take that command")) return AttackReply::kNotTaken;
  if (starts("You say, ")) return AttackReply::kSayEcho;
  if (starts("The Nexus") || starts("Bench Room ")) return AttackReply::kLoggedIn;
  if (line == "Goodbye.") return AttackReply::kGoodbye;
  return AttackReply::kOther;
}

std::optional<int> BackoffSeconds(std::string_view line) {
  static constexpr std::string_view kLead = "try again in ";
  const size_t at = line.find(kLead);
  if (at == std::string_view::npos) return std::nullopt;
  size_t i = at + kLead.size();
  int value = 0;
  bool any = false;
  while (i < line.size() && line[i] >= '0' && line[i] <= '9' && value < 100000000) {
    value = value * 10 + (line[i] - '0');
    any = true;
    ++i;
  }
  if (!any || line.substr(i).rfind(" second", 0) != 0) return std::nullopt;
  return value;
}

PacedSchedule::PacedSchedule(double rate_per_s, int64_t start_ns)
    : rate_(rate_per_s), start_ns_(start_ns) {
  if (!(rate_ >= 0) || std::isinf(rate_)) {
    throw std::invalid_argument("attack rate must be a finite number of attempts per second");
  }
}

uint64_t PacedSchedule::Due(int64_t now_ns) const {
  if (rate_ <= 0 || now_ns < start_ns_) return 0;
  // An estimate, then stepped to agree exactly with At(): attempt k is due iff At(k) <= now.
  const double elapsed = static_cast<double>(now_ns - start_ns_) / 1e9;
  auto k = static_cast<uint64_t>(std::floor(elapsed * rate_));
  while (At(k + 1) <= now_ns) ++k;
  while (k > 0 && At(k) > now_ns) --k;
  return k + 1;  // attempts 0..k
}

int64_t PacedSchedule::At(uint64_t k) const {
  if (rate_ <= 0) return INT64_MAX;
  return start_ns_ + static_cast<int64_t>(std::llround(static_cast<double>(k) / rate_ * 1e9));
}

}  // namespace holomush::loadgen
