#include "game/accounts.hpp"

#include <sodium.h>

#include <algorithm>
#include <regex>
#include <stdexcept>
#include <vector>

#include "game/command_parser.hpp"
#include "holomush/common/logging.hpp"

namespace holomush::core {
namespace {

using common::Error;
using common::ErrorKind;

// argon2id with 19 MiB and 2 passes: strong, yet a login costs tens of milliseconds.
constexpr unsigned long long kPwOps = 2;
constexpr size_t kPwMem = 19 * 1024 * 1024;

const bool kSodiumReady = [] {
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
  return true;
}();

}  // namespace

std::chrono::seconds LoginBackoff::WaitAfter(int failures) const {
  if (failures <= free_failures) return std::chrono::seconds(0);
  const int doublings = std::min(failures - free_failures - 1, 30);
  const auto wait = first_wait.count() << doublings;
  return std::chrono::seconds(std::min<int64_t>(wait, max_wait.count()));
}

std::optional<std::string> HashPassword(const std::string& password) {
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), kPwOps, kPwMem,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return std::nullopt;
  }
  return std::string(out);
}

bool VerifyPassword(const std::string& hash, const std::string& password) {
  return crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

std::string RandomHex(size_t bytes) {
  std::vector<unsigned char> buf(bytes);
  randombytes_buf(buf.data(), buf.size());
  std::string out(bytes * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), buf.data(), buf.size());
  out.pop_back();
  return out;
}

std::string Sha256Hex(const std::string& text) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(text.data()), text.size());
  char hex[crypto_hash_sha256_BYTES * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
  return hex;
}

bool ValidUsername(const std::string& name) {
  static const std::regex kPattern("^[A-Za-z][A-Za-z0-9_]{2,29}$");
  return std::regex_match(name, kPattern);
}

std::optional<std::string> NormalizeCharacterName(const std::string& name) {
  static const std::regex kPattern("^[A-Za-z]+( [A-Za-z]+)*$");
  std::string text = Trim(name);
  if (text.size() < 2 || text.size() > 32 || !std::regex_match(text, kPattern)) return std::nullopt;
  bool start = true;
  for (char& c : text) {
    c = start ? static_cast<char>(std::toupper(static_cast<unsigned char>(c)))
              : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    start = c == ' ';
  }
  return text;
}

std::optional<std::string> AccountRefusal(const std::string& username,
                                          const std::string& password) {
  if (!ValidUsername(username)) {
    return "Usernames are 3 to 30 letters, digits or underscores, starting with a letter.";
  }
  if (!NormalizeCharacterName(username)) {
    return "Your first character takes your username, so it must be letters only (2 to 32).";
  }
  if (password.size() < 6 || password.size() > 128) {
    return "Passwords must be 6 to 128 characters long.";
  }
  return std::nullopt;
}

Accounts::Accounts(AccountStore& store, LoginBackoff backoff) : store_(store), backoff_(backoff) {
  (void)kSodiumReady;
}

Result<pb::LoginReply> Accounts::IssueLogin(const Player& player) {
  const std::string token = RandomHex(32);
  if (auto s = store_.SaveLoginToken(player.id, Sha256Hex(token), std::chrono::minutes(10)); !s) {
    return s.error();
  }
  auto chars = store_.CharactersOf(player.id);
  if (!chars) return chars.error();
  pb::LoginReply reply;
  reply.set_player_id(player.id);
  reply.set_login_token(token);
  for (const auto& c : *chars) {
    auto* summary = reply.add_characters();
    summary->set_id(c.id);
    summary->set_name(c.name);
  }
  return reply;
}

Result<pb::LoginReply> Accounts::Create(const std::string& username, const std::string& password) {
  pb::LoginReply refused;
  if (auto why = AccountRefusal(username, password)) {
    refused.set_message(*why);
    return refused;
  }
  auto hash = HashPassword(password);
  if (!hash) return Error{ErrorKind::kInternal, "password hashing failed"};
  auto account = store_.CreateAccount(username, *hash, *NormalizeCharacterName(username), "player");
  if (!account) {
    if (account.error().kind == ErrorKind::kConflict) {
      refused.set_message("That name is already taken.");
      return refused;
    }
    return account.error();
  }
  common::Logger("core").Info("account created",
                              {{"player_id", account->player.id}, {"role", account->player.role}});
  return IssueLogin(account->player);
}

Result<pb::LoginReply> Accounts::Login(const std::string& username, const std::string& password,
                                       const std::string& address) {
  pb::LoginReply refused;
  refused.set_message("Invalid username or password.");
  auto auth = store_.FindPlayer(username);
  if (!auth) {
    if (auth.error().kind == ErrorKind::kNotFound) return refused;
    return auth.error();
  }
  // Checked before the password, so a guesser in backoff costs no hashing.
  auto wait = store_.LoginWait(auth->player.id, address);
  if (!wait) return wait.error();
  if (wait->count() > 0) {
    refused.set_message("Too many failed logins from your address; try again in " +
                        std::to_string(wait->count()) + " seconds.");
    return refused;
  }
  if (!VerifyPassword(auth->password_hash, password)) {
    auto failures = store_.RecordLoginFailure(auth->player.id, address, backoff_);
    if (!failures) return failures.error();
    if (*failures == backoff_.free_failures + 1) {
      common::Logger("core").Warn("failed logins now back off",
                                  {{"player_id", auth->player.id}, {"address", address}});
    }
    return refused;
  }
  if (auto s = store_.RecordLoginSuccess(auth->player.id, address); !s) return s.error();
  return IssueLogin(auth->player);
}

}  // namespace holomush::core
