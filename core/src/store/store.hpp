// Records and the store interfaces the game logic sees (PostgreSQL behind them: pg_store.cpp).
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "holomush/common/result.hpp"

namespace holomush::core {

using common::Result;
using common::Status;

struct Player {
  std::string id;
  std::string username;
  std::string role;  // player, builder, admin
};

struct Character {
  std::string id;
  std::string player_id;
  std::string name;
  std::string location_id;
};

struct Location {
  std::string id;
  std::string name;
  std::string description;
};

struct Exit {
  std::string id;
  std::string name;
  std::string to_location_id;
  std::vector<std::string> aliases;
};

// A location and its exits, read in one statement: what core's world cache keeps.
struct Place {
  Location location;
  std::vector<Exit> exits;  // by name
};

struct EventRecord {
  std::string id;  // ULID, assigned by the writer
  std::string stream;
  std::string type;
  std::string actor_id;
  std::string actor_name;
  nlohmann::json payload = nlohmann::json::object();
  std::string payload_json;  // payload serialised once (by the writer, or as read back)
  int64_t unix_millis = 0;
};

struct PlayerAuth {
  Player player;
  std::string password_hash;
};

// How failed logins slow down further tries for one (account, address): the first
// `free_failures` cost nothing, then each waits twice as long as the last, from `first_wait`
// up to `max_wait`. Another address is not slowed, so a stranger cannot lock the owner out.
struct LoginBackoff {
  int free_failures = 3;
  std::chrono::seconds first_wait{2};
  std::chrono::seconds max_wait{15 * 60};

  // The wait after the `failures`-th failure in a row.
  std::chrono::seconds WaitAfter(int failures) const;
};

struct NewAccount {
  Player player;
  Character character;
};

struct SessionRecord {
  std::string id;
  std::string player_id;
  std::string character_id;
  std::string resume_token_hash;
  bool ended = false;
  int64_t created_unix_millis = 0;
};

struct WhoRow {
  std::string name;
  int64_t idle_seconds = 0;
};

class AccountStore {
 public:
  virtual ~AccountStore() = default;
  // `role` is player, builder or admin. kConflict when the username or character name is
  // taken.
  virtual Result<NewAccount> CreateAccount(const std::string& username,
                                           const std::string& password_hash,
                                           const std::string& character_name,
                                           const std::string& role) = 0;
  virtual Result<PlayerAuth> FindPlayer(const std::string& username) = 0;
  // Sets an existing account's role; kNotFound without one.
  virtual Status SetRole(const std::string& username, const std::string& role) = 0;
  // How long logins to this account from `address` must still wait (0 when they may try).
  virtual Result<std::chrono::seconds> LoginWait(const std::string& player_id,
                                                 const std::string& address) = 0;
  // Counts a failure from `address` and sets its wait by `backoff`; returns the failures in
  // a row from there.
  virtual Result<int> RecordLoginFailure(const std::string& player_id, const std::string& address,
                                         const LoginBackoff& backoff) = 0;
  // Forgets the failures from `address`.
  virtual Status RecordLoginSuccess(const std::string& player_id, const std::string& address) = 0;
  virtual Status SaveLoginToken(const std::string& player_id, const std::string& token_hash,
                                std::chrono::seconds ttl) = 0;
  // The player the (unexpired) token belongs to.
  virtual Result<Player> PlayerForLoginToken(const std::string& token_hash) = 0;
  virtual Result<std::vector<Character>> CharactersOf(const std::string& player_id) = 0;
  virtual Result<Player> GetPlayer(const std::string& player_id) = 0;
};

class WorldStore {
 public:
  virtual ~WorldStore() = default;
  // The location and its exits in one round trip; kNotFound when it is gone.
  virtual Result<Place> GetPlace(const std::string& location_id) = 0;
  // Names of characters here with a session that has not ended.
  virtual Result<std::vector<std::string>> PresentAt(const std::string& location_id) = 0;
  virtual Result<Character> GetCharacter(const std::string& id) = 0;
  // Case-insensitive; kNotFound when nobody has that name.
  virtual Result<Character> FindCharacter(const std::string& name) = 0;
  virtual Status MoveCharacter(const std::string& character_id, const std::string& location_id) = 0;
  // Creates a location and an exit to it (and a return exit when `return_names` is set).
  virtual Result<Location> Dig(const std::string& from_id, const std::vector<std::string>& names,
                               const std::string& location_name,
                               const std::vector<std::string>& return_names) = 0;
  virtual Result<Location> Link(const std::string& from_id, const std::vector<std::string>& names,
                                const std::string& location) = 0;
  virtual Status Describe(const std::string& location_id, const std::string& text) = 0;
};

class AliasStore {
 public:
  virtual ~AliasStore() = default;
  // Inserts or replaces; returns the previous command when there was one.
  virtual Result<std::optional<std::string>> PutPlayerAlias(const std::string& player_id,
                                                            const std::string& alias,
                                                            const std::string& command) = 0;
  virtual Result<bool> DeletePlayerAlias(const std::string& player_id,
                                         const std::string& alias) = 0;
  virtual Result<std::optional<std::string>> PutSystemAlias(const std::string& alias,
                                                            const std::string& command,
                                                            const std::string& created_by) = 0;
  virtual Result<bool> DeleteSystemAlias(const std::string& alias) = 0;
  // (player_id or "" for system, alias, command) for every alias, or for one alias.
  struct Row {
    std::string player_id;
    std::string alias;
    std::string command;
  };
  virtual Result<std::vector<Row>> AllAliases() = 0;
  virtual Result<std::optional<Row>> GetAlias(const std::string& player_id,
                                              const std::string& alias) = 0;
};

class SessionStore {
 public:
  virtual ~SessionStore() = default;
  virtual Result<std::string> CreateSession(const std::string& player_id,
                                            const std::string& character_id,
                                            const std::string& resume_token_hash) = 0;
  virtual Result<SessionRecord> GetSession(const std::string& id) = 0;
  // The session is connected through the core process `core_id`, and counts as connected
  // while that process's lease holds (the lease is taken here if the process has none yet).
  virtual Status Connect(const std::string& id, const std::string& core_id) = 0;
  // The session's stream went away: it is detached from now.
  virtual Status Disconnect(const std::string& id) = 0;
  virtual Status EndSession(const std::string& id) = 0;
  // Ends sessions detached for longer than `linger`, or whose process's lease lapsed that
  // long ago (the process died); returns their ids.
  virtual Result<std::vector<std::string>> ExpireDetached(std::chrono::seconds linger) = 0;
  virtual Result<std::vector<WhoRow>> Who() = 0;
  // Keeps the sessions connected through the process `core_id` counted as connected for 30
  // more seconds (one row, however many sessions), and records that `active` ran commands
  // since the last renewal (`who`'s idle time): one write every few seconds instead of one
  // per command.
  virtual Status RenewLease(const std::string& core_id, const std::vector<std::string>& active) = 0;
  // Live (not ended) sessions of a character.
  virtual Result<std::vector<std::string>> SessionsOf(const std::string& character_id) = 0;
};

class EventStore {
 public:
  virtual ~EventStore() = default;
  // Inserts the events (ids already assigned) and NOTIFYs their ids on `channel`, all in one
  // transaction.
  virtual Status AppendBatch(const std::vector<EventRecord>& events,
                             const std::string& channel) = 0;
  // Events on `streams` with id > after_id, oldest first.
  virtual Result<std::vector<EventRecord>> ReadAfter(const std::vector<std::string>& streams,
                                                     const std::string& after_id, int limit) = 0;
  virtual Result<std::vector<EventRecord>> ReadIds(const std::vector<std::string>& ids) = 0;
};

}  // namespace holomush::core
