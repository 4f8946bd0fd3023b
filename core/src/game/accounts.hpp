// Accounts: password hashing, account creation, login with per-address backoff, login tokens.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "holomush/core/v1/core.pb.h"
#include "store/store.hpp"

namespace holomush::core {

namespace pb = ::holomush::core::v1;

// argon2id (libsodium); nullopt when hashing failed (out of memory).
std::optional<std::string> HashPassword(const std::string& password);
bool VerifyPassword(const std::string& hash, const std::string& password);
std::string RandomHex(size_t bytes);
std::string Sha256Hex(const std::string& text);

// Player-facing validation (pure).
bool ValidUsername(const std::string& name);
// "mary  jane" -> "Mary Jane"; nullopt unless 2-32 letters and single spaces.
std::optional<std::string> NormalizeCharacterName(const std::string& name);
// The refusal for a username, password and first character, or nullopt when all are valid.
std::optional<std::string> AccountRefusal(const std::string& username, const std::string& password);

// Thread-safe (stateless over the store). Hashing is slow by design: the gRPC service runs
// these calls on its password pool.
class Accounts {
 public:
  Accounts(AccountStore& store, LoginBackoff backoff);

  // A new player account (never an admin: admins are made with `holomush admin create`)
  // with a first character of the same name, logged in.
  Result<pb::LoginReply> Create(const std::string& username, const std::string& password);
  Result<pb::LoginReply> Login(const std::string& username, const std::string& password,
                               const std::string& address);

 private:
  Result<pb::LoginReply> IssueLogin(const Player& player);

  AccountStore& store_;
  LoginBackoff backoff_;
};

}  // namespace holomush::core
