// PgStore: accounts, logins and their backoff, and aliases.
#include "store/pg_store.hpp"
#include "store/pg_support.hpp"

namespace holomush::core {

// ---- accounts ----

Result<NewAccount> PgStore::CreateAccount(const std::string& username,
                                          const std::string& password_hash,
                                          const std::string& character_name,
                                          const std::string& role) {
  return db_.Transact<NewAccount>([&](pqxx::work& txn) {
    auto p = txn.exec_params1(
        "INSERT INTO players (username, password_hash, role) VALUES ($1, $2, $3) RETURNING id",
        username, password_hash, role);
    NewAccount out;
    out.player = {p["id"].as<std::string>(), username, role};
    auto c = txn.exec_params1(
        "INSERT INTO characters (player_id, name, location_id) VALUES ($1::uuid, $2,"
        " '00000000-0000-0000-0000-000000000001') RETURNING id, player_id, name, location_id",
        out.player.id, character_name);
    out.character = CharacterFrom(c);
    return out;
  });
}

Result<PlayerAuth> PgStore::FindPlayer(const std::string& username) {
  auto r = db_.Autocommit<std::optional<PlayerAuth>>([&](pqxx::transaction_base& txn) {
    auto rows = txn.exec_params(
        "SELECT id, username, role, password_hash FROM players WHERE lower(username) = lower($1)",
        username);
    if (rows.empty()) return std::optional<PlayerAuth>();
    const auto& row = rows[0];
    return std::optional<PlayerAuth>(
        PlayerAuth{{row["id"].as<std::string>(), row["username"].as<std::string>(),
                    row["role"].as<std::string>()},
                   row["password_hash"].as<std::string>()});
  });
  if (!r) return r.error();
  if (!*r) return NotFound("no such player");
  return **r;
}

Status PgStore::SetRole(const std::string& username, const std::string& role) {
  auto updated = db_.Autocommit<bool>([&](pqxx::transaction_base& txn) {
    return txn.exec_params("UPDATE players SET role = $2 WHERE lower(username) = lower($1)",
                           username, role)
               .affected_rows() == 1;
  });
  if (!updated) return updated.error();
  if (!*updated) return NotFound("no such player");
  return common::Ok{};
}

Result<std::chrono::seconds> PgStore::LoginWait(const std::string& player_id,
                                                const std::string& address) {
  return db_.Autocommit<std::chrono::seconds>([&](pqxx::transaction_base& txn) {
    auto rows = txn.exec_params(
        "SELECT ceil(extract(epoch FROM retry_at - now()))::bigint FROM login_failures"
        " WHERE player_id = $1::uuid AND address = $2 AND retry_at > now()",
        player_id, address);
    return std::chrono::seconds(rows.empty() ? 0 : std::max<int64_t>(rows[0][0].as<int64_t>(), 1));
  });
}

Result<int> PgStore::RecordLoginFailure(const std::string& player_id, const std::string& address,
                                        const LoginBackoff& backoff) {
  return db_.Transact<int>([&](pqxx::work& txn) {
    // Rows a day old are forgotten on the way (the table cannot grow without bound).
    auto row = txn.exec_params1(
        "WITH stale AS (DELETE FROM login_failures WHERE last_failure_at < now() - interval '1 "
        "day')"
        " INSERT INTO login_failures (player_id, address, failures, retry_at)"
        " VALUES ($1::uuid, $2, 1, now())"
        " ON CONFLICT (player_id, address) DO UPDATE SET failures = login_failures.failures + 1,"
        " last_failure_at = now() RETURNING failures",
        player_id, address);
    const int failures = row[0].as<int>();
    txn.exec_params(
        "UPDATE login_failures SET retry_at = now() + make_interval(secs => $3)"
        " WHERE player_id = $1::uuid AND address = $2",
        player_id, address, static_cast<double>(backoff.WaitAfter(failures).count()));
    return failures;
  });
}

Status PgStore::RecordLoginSuccess(const std::string& player_id, const std::string& address) {
  return Exec(db_, [&](pqxx::transaction_base& txn) {
    txn.exec_params("DELETE FROM login_failures WHERE player_id = $1::uuid AND address = $2",
                    player_id, address);
  });
}

Status PgStore::SaveLoginToken(const std::string& player_id, const std::string& token_hash,
                               std::chrono::seconds ttl) {
  // Expired tokens go in the same statement (one round trip, one implicit transaction).
  return Exec(db_, [&](pqxx::transaction_base& txn) {
    txn.exec_params(
        "WITH expired AS (DELETE FROM login_tokens WHERE expires_at < now())"
        " INSERT INTO login_tokens (token_hash, player_id, expires_at)"
        " VALUES ($1, $2::uuid, now() + make_interval(secs => $3))",
        token_hash, player_id, static_cast<double>(ttl.count()));
  });
}

Result<Player> PgStore::PlayerForLoginToken(const std::string& token_hash) {
  auto r = db_.Autocommit<std::optional<Player>>([&](pqxx::transaction_base& txn) {
    auto rows = txn.exec_params(
        "SELECT p.id, p.username, p.role FROM login_tokens t JOIN players p ON p.id = t.player_id"
        " WHERE t.token_hash = $1 AND t.expires_at > now()",
        token_hash);
    if (rows.empty()) return std::optional<Player>();
    return std::optional<Player>(Player{rows[0][0].as<std::string>(), rows[0][1].as<std::string>(),
                                        rows[0][2].as<std::string>()});
  });
  if (!r) return r.error();
  if (!*r) return NotFound("login expired");
  return **r;
}

Result<std::vector<Character>> PgStore::CharactersOf(const std::string& player_id) {
  return db_.Autocommit<std::vector<Character>>([&](pqxx::transaction_base& txn) {
    std::vector<Character> out;
    for (const auto& row : txn.exec_params("SELECT id, player_id, name, location_id FROM characters"
                                           " WHERE player_id = $1::uuid ORDER BY created_at",
                                           player_id)) {
      out.push_back(CharacterFrom(row));
    }
    return out;
  });
}

Result<Player> PgStore::GetPlayer(const std::string& player_id) {
  auto r = db_.Autocommit<std::optional<Player>>([&](pqxx::transaction_base& txn) {
    auto rows =
        txn.exec_params("SELECT id, username, role FROM players WHERE id = $1::uuid", player_id);
    if (rows.empty()) return std::optional<Player>();
    return std::optional<Player>(Player{rows[0][0].as<std::string>(), rows[0][1].as<std::string>(),
                                        rows[0][2].as<std::string>()});
  });
  if (!r) return r.error();
  if (!*r) return NotFound("no such player");
  return **r;
}

// ---- aliases ----

Result<std::optional<std::string>> PgStore::PutPlayerAlias(const std::string& player_id,
                                                           const std::string& alias,
                                                           const std::string& command) {
  return db_.Transact<std::optional<std::string>>([&](pqxx::work& txn) {
    auto prev = txn.exec_params(
        "SELECT command FROM player_aliases WHERE player_id = $1::uuid AND alias = $2 FOR UPDATE",
        player_id, alias);
    txn.exec_params(
        "INSERT INTO player_aliases (player_id, alias, command) VALUES ($1::uuid, $2, $3)"
        " ON CONFLICT (player_id, alias) DO UPDATE SET command = excluded.command,"
        " updated_at = now()",
        player_id, alias, command);
    if (prev.empty()) return std::optional<std::string>();
    return std::optional<std::string>(prev[0][0].as<std::string>());
  });
}

Result<bool> PgStore::DeletePlayerAlias(const std::string& player_id, const std::string& alias) {
  return db_.Transact<bool>([&](pqxx::work& txn) {
    auto r = txn.exec_params("DELETE FROM player_aliases WHERE player_id = $1::uuid AND alias = $2",
                             player_id, alias);
    return r.affected_rows() > 0;
  });
}

Result<std::optional<std::string>> PgStore::PutSystemAlias(const std::string& alias,
                                                           const std::string& command,
                                                           const std::string& created_by) {
  return db_.Transact<std::optional<std::string>>([&](pqxx::work& txn) {
    auto prev =
        txn.exec_params("SELECT command FROM system_aliases WHERE alias = $1 FOR UPDATE", alias);
    txn.exec_params(
        "INSERT INTO system_aliases (alias, command, created_by) VALUES ($1, $2, $3::uuid)"
        " ON CONFLICT (alias) DO UPDATE SET command = excluded.command, updated_at = now()",
        alias, command, created_by);
    if (prev.empty()) return std::optional<std::string>();
    return std::optional<std::string>(prev[0][0].as<std::string>());
  });
}

Result<bool> PgStore::DeleteSystemAlias(const std::string& alias) {
  return db_.Transact<bool>([&](pqxx::work& txn) {
    auto r = txn.exec_params("DELETE FROM system_aliases WHERE alias = $1", alias);
    return r.affected_rows() > 0;
  });
}

Result<std::vector<AliasStore::Row>> PgStore::AllAliases() {
  return db_.Autocommit<std::vector<Row>>([&](pqxx::transaction_base& txn) {
    std::vector<Row> out;
    // In the order they were last set: at start-up a value the cache refused when it was set
    // (a failed rollback leaves it) meets the aliases it clashed with already loaded, and is
    // the one refused again.
    for (const auto& r :
         txn.exec("SELECT player_id::text, alias, command, updated_at FROM player_aliases"
                  " UNION ALL SELECT '', alias, command, updated_at FROM system_aliases"
                  " ORDER BY updated_at")) {
      out.push_back({r[0].as<std::string>(), r[1].as<std::string>(), r[2].as<std::string>()});
    }
    return out;
  });
}

Result<std::optional<AliasStore::Row>> PgStore::GetAlias(const std::string& player_id,
                                                         const std::string& alias) {
  return db_.Autocommit<std::optional<Row>>([&](pqxx::transaction_base& txn) {
    auto rows = player_id.empty()
                    ? txn.exec_params("SELECT command FROM system_aliases WHERE alias = $1", alias)
                    : txn.exec_params(
                          "SELECT command FROM player_aliases WHERE player_id = $1::uuid"
                          " AND alias = $2",
                          player_id, alias);
    if (rows.empty()) return std::optional<Row>();
    return std::optional<Row>(Row{player_id, alias, rows[0][0].as<std::string>()});
  });
}

}  // namespace holomush::core
