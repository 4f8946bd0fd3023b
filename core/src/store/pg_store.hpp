// PostgreSQL implementation of every store interface, on the shared connection pool.
#pragma once

#include "store/database.hpp"
#include "store/store.hpp"

namespace holomush::core {

// Thread-safe: each call takes a pooled connection for one transaction.
class PgStore final : public AccountStore,
                      public WorldStore,
                      public AliasStore,
                      public SessionStore,
                      public EventStore {
 public:
  // Defines the hot statements on `db`, prepared once per pooled connection.
  explicit PgStore(Database& db);

  // AccountStore
  Result<NewAccount> CreateAccount(const std::string& username, const std::string& password_hash,
                                   const std::string& character_name,
                                   const std::string& role) override;
  Result<PlayerAuth> FindPlayer(const std::string& username) override;
  Status SetRole(const std::string& username, const std::string& role) override;
  Result<std::chrono::seconds> LoginWait(const std::string& player_id,
                                         const std::string& address) override;
  Result<int> RecordLoginFailure(const std::string& player_id, const std::string& address,
                                 const LoginBackoff& backoff) override;
  Status RecordLoginSuccess(const std::string& player_id, const std::string& address) override;
  Status SaveLoginToken(const std::string& player_id, const std::string& token_hash,
                        std::chrono::seconds ttl) override;
  Result<Player> PlayerForLoginToken(const std::string& token_hash) override;
  Result<std::vector<Character>> CharactersOf(const std::string& player_id) override;
  Result<Player> GetPlayer(const std::string& player_id) override;

  // WorldStore
  Result<Place> GetPlace(const std::string& location_id) override;
  Result<std::vector<std::string>> PresentAt(const std::string& location_id) override;
  Result<Character> GetCharacter(const std::string& id) override;
  Result<Character> FindCharacter(const std::string& name) override;
  Status MoveCharacter(const std::string& character_id, const std::string& location_id) override;
  Result<Location> Dig(const std::string& from_id, const std::vector<std::string>& names,
                       const std::string& location_name,
                       const std::vector<std::string>& return_names) override;
  Result<Location> Link(const std::string& from_id, const std::vector<std::string>& names,
                        const std::string& location) override;
  Status Describe(const std::string& location_id, const std::string& text) override;

  // AliasStore
  Result<std::optional<std::string>> PutPlayerAlias(const std::string& player_id,
                                                    const std::string& alias,
                                                    const std::string& command) override;
  Result<bool> DeletePlayerAlias(const std::string& player_id, const std::string& alias) override;
  Result<std::optional<std::string>> PutSystemAlias(const std::string& alias,
                                                    const std::string& command,
                                                    const std::string& created_by) override;
  Result<bool> DeleteSystemAlias(const std::string& alias) override;
  Result<std::vector<Row>> AllAliases() override;
  Result<std::optional<Row>> GetAlias(const std::string& player_id,
                                      const std::string& alias) override;

  // SessionStore
  Result<std::string> CreateSession(const std::string& player_id, const std::string& character_id,
                                    const std::string& resume_token_hash) override;
  Result<SessionRecord> GetSession(const std::string& id) override;
  Status Connect(const std::string& id, const std::string& core_id) override;
  Status Disconnect(const std::string& id) override;
  Status EndSession(const std::string& id) override;
  Result<std::vector<std::string>> ExpireDetached(std::chrono::seconds linger) override;
  Result<std::vector<WhoRow>> Who() override;
  Status RenewLease(const std::string& core_id, const std::vector<std::string>& active) override;
  Result<std::vector<std::string>> SessionsOf(const std::string& character_id) override;

  // EventStore
  Status AppendBatch(const std::vector<EventRecord>& events, const std::string& channel) override;
  Result<std::vector<EventRecord>> ReadAfter(const std::vector<std::string>& streams,
                                             const std::string& after_id, int limit) override;
  Result<std::vector<EventRecord>> ReadIds(const std::vector<std::string>& ids) override;

 private:
  Database& db_;
};

// NOTIFY payloads are limited to 8000 bytes: ids are split into chunks below that.
std::vector<std::string> NotifyPayloads(const std::vector<EventRecord>& events,
                                        size_t max_bytes = 7900);

}  // namespace holomush::core
