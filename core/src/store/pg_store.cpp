#include "store/pg_store.hpp"

#include <regex>
#include <stdexcept>
#include <unordered_map>

namespace holomush::core {
namespace {

using common::ErrorKind;
using common::Ok;

// A text[] literal for a bound parameter (libpqxx 6 has no vector conversion).
std::string ToPgArray(const std::vector<std::string>& items) {
  std::string out = "{";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += ',';
    out += '"';
    for (char c : items[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

// The strings of a one-dimensional text[] field (NULL elements skipped).
std::vector<std::string> TextArray(const pqxx::field& field) {
  std::vector<std::string> out;
  auto parser = field.as_array();
  for (auto item = parser.get_next(); item.first != pqxx::array_parser::done;
       item = parser.get_next()) {
    if (item.first == pqxx::array_parser::string_value) out.push_back(std::move(item.second));
  }
  return out;
}

Character CharacterFrom(const pqxx::row& r) {
  return {r["id"].as<std::string>(), r["player_id"].as<std::string>(), r["name"].as<std::string>(),
          r["location_id"].as<std::string>()};
}

EventRecord EventFrom(const pqxx::row& r) {
  EventRecord e;
  e.id = r["id"].as<std::string>();
  e.stream = r["stream"].as<std::string>();
  e.type = r["type"].as<std::string>();
  e.actor_id = r["actor_id"].is_null() ? "" : r["actor_id"].as<std::string>();
  e.actor_name = r["actor_name"].as<std::string>();
  e.payload_json = r["payload"].as<std::string>();
  e.payload = nlohmann::json::parse(e.payload_json);
  e.unix_millis = r["unix_millis"].as<int64_t>();
  return e;
}

constexpr const char* kEventColumns =
    "id, stream, type, actor_id, actor_name, payload::text AS payload,"
    " (extract(epoch FROM created_at) * 1000)::bigint AS unix_millis";

// The statements of every command's path, prepared once per connection (see PgStore()).
constexpr const char* kGetLocation = "get_location";
constexpr const char* kExitsFrom = "exits_from";
constexpr const char* kPresentAt = "present_at";
constexpr const char* kViewRoom = "view_room";
constexpr const char* kGetCharacter = "get_character";
constexpr const char* kFindCharacter = "find_character";
constexpr const char* kMoveCharacter = "move_character";
constexpr const char* kExitCandidates = "exit_candidates";

// Characters at a location with a session that has not ended ($1: the location).
constexpr const char* kPresentSql =
    "SELECT c.name FROM characters c WHERE c.location_id = $1::uuid AND EXISTS"
    " (SELECT 1 FROM sessions s WHERE s.character_id = c.id AND s.ended_at IS NULL)"
    " ORDER BY c.name";

Error NotFound(const std::string& what) { return {ErrorKind::kNotFound, what}; }

// Runs work that returns nothing in autocommit mode: each exec is one round trip, and the
// statements of one exec (AppendBatch) run as one implicit transaction.
template <typename F>
Status Exec(Database& db, F&& fn, bool retry_safe = true) {
  auto r = db.Autocommit<Ok>(
      [&](pqxx::transaction_base& txn) {
        fn(txn);
        return Ok{};
      },
      retry_safe);
  if (!r) return r.error();
  return Ok{};
}

// Creates an exit and its aliases; names[0] is the name.
void InsertExit(pqxx::work& txn, const std::string& from, const std::string& to,
                const std::vector<std::string>& names) {
  auto id = txn.exec_params1(
                   "INSERT INTO exits (from_location_id, to_location_id, name)"
                   " VALUES ($1::uuid, $2::uuid, $3) RETURNING id",
                   from, to, names.at(0))[0]
                .as<std::string>();
  for (size_t i = 1; i < names.size(); ++i) {
    txn.exec_params(
        "INSERT INTO exit_aliases (exit_id, alias) VALUES ($1::uuid, $2)"
        " ON CONFLICT DO NOTHING",
        id, names[i]);
  }
}

}  // namespace

PgStore::PgStore(Database& db) : db_(db) {
  db_.Define(kGetLocation, "SELECT id, name, description FROM locations WHERE id = $1::uuid");
  db_.Define(kExitsFrom,
             "SELECT e.id, e.name, e.to_location_id,"
             " coalesce(array_agg(a.alias ORDER BY a.alias) FILTER (WHERE a.alias IS NOT NULL),"
             " '{}') AS aliases"
             " FROM exits e LEFT JOIN exit_aliases a ON a.exit_id = e.id"
             " WHERE e.from_location_id = $1::uuid GROUP BY e.id ORDER BY e.name");
  db_.Define(kPresentAt, kPresentSql);
  // Exits as parallel arrays in one order (arrays parse far cheaper than JSON in a room
  // with hundreds of exits), and the aliases as (exit id, alias) pairs in two more.
  const std::string exits_here =
      " FROM exits e WHERE e.from_location_id = l.id ORDER BY e.name, e.id)";
  const std::string aliases_here =
      " FROM exits e JOIN exit_aliases a ON a.exit_id = e.id"
      " WHERE e.from_location_id = l.id ORDER BY e.name, e.id, a.alias)";
  db_.Define(kViewRoom, "SELECT l.id, l.name, l.description, ARRAY(SELECT e.id::text" + exits_here +
                            ", ARRAY(SELECT e.name" + exits_here +
                            ", ARRAY(SELECT e.to_location_id::text" + exits_here +
                            ", ARRAY(SELECT e.id::text" + aliases_here + ", ARRAY(SELECT a.alias" +
                            aliases_here + ", ARRAY(" + kPresentSql +
                            ") FROM locations l WHERE l.id = $1::uuid");
  db_.Define(kGetCharacter,
             "SELECT id, player_id, name, location_id FROM characters WHERE id = $1::uuid");
  db_.Define(kFindCharacter,
             "SELECT id, player_id, name, location_id FROM characters"
             " WHERE lower(name) = lower($1)");
  db_.Define(kMoveCharacter, "UPDATE characters SET location_id = $2::uuid WHERE id = $1::uuid");
  db_.Define(kExitCandidates,
             // Similarity is only worked out when no exit matches exactly.
             "WITH here AS (SELECT e.id, e.name, e.to_location_id,"
             "   lower(e.name) = lower($2) OR EXISTS (SELECT 1 FROM exit_aliases a"
             "     WHERE a.exit_id = e.id AND lower(a.alias) = lower($2)) AS exact"
             "   FROM exits e WHERE e.from_location_id = $1::uuid)"
             " SELECT h.id, h.name, h.to_location_id, h.exact,"
             " CASE WHEN (SELECT bool_or(exact) FROM here) THEN 0.0 ELSE"
             " (SELECT max(greatest(similarity(h.name, v), coalesce((SELECT max(similarity("
             "   a.alias, v)) FROM exit_aliases a WHERE a.exit_id = h.id), 0)))"
             "   FROM unnest($3::text[]) v) END"
             " FROM here h");
}

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

// ---- world ----

Result<Location> PgStore::GetLocation(const std::string& id) {
  auto r = db_.Autocommit<std::optional<Location>>([&](pqxx::transaction_base& txn) {
    auto rows = txn.exec_prepared(kGetLocation, id);
    if (rows.empty()) return std::optional<Location>();
    return std::optional<Location>(Location{
        rows[0][0].as<std::string>(), rows[0][1].as<std::string>(), rows[0][2].as<std::string>()});
  });
  if (!r) return r.error();
  if (!*r) return NotFound("no such location");
  return **r;
}

Result<std::vector<Exit>> PgStore::ExitsFrom(const std::string& location_id) {
  return db_.Autocommit<std::vector<Exit>>([&](pqxx::transaction_base& txn) {
    std::vector<Exit> out;
    for (const auto& row : txn.exec_prepared(kExitsFrom, location_id)) {
      Exit e{row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<std::string>(), {}};
      auto arr = row[3].as_array();
      for (auto item = arr.get_next(); item.first != pqxx::array_parser::done;
           item = arr.get_next()) {
        if (item.first == pqxx::array_parser::string_value) e.aliases.push_back(item.second);
      }
      out.push_back(std::move(e));
    }
    return out;
  });
}

Result<std::vector<std::string>> PgStore::PresentAt(const std::string& location_id) {
  return db_.Autocommit<std::vector<std::string>>([&](pqxx::transaction_base& txn) {
    std::vector<std::string> out;
    for (const auto& row : txn.exec_prepared(kPresentAt, location_id)) {
      out.push_back(row[0].as<std::string>());
    }
    return out;
  });
}

Result<RoomView> PgStore::ViewRoom(const std::string& location_id) {
  auto r = db_.Autocommit<std::optional<RoomView>>([&](pqxx::transaction_base& txn) {
    auto rows = txn.exec_prepared(kViewRoom, location_id);
    if (rows.empty()) return std::optional<RoomView>();
    const auto& row = rows[0];
    RoomView view;
    view.location = {row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<std::string>()};
    const auto ids = TextArray(row[3]);
    const auto names = TextArray(row[4]);
    const auto tos = TextArray(row[5]);
    const auto alias_exits = TextArray(row[6]);
    const auto aliases = TextArray(row[7]);
    if (names.size() != ids.size() || tos.size() != ids.size() ||
        aliases.size() != alias_exits.size()) {
      throw std::runtime_error("room view: arrays of different lengths");
    }
    std::unordered_map<std::string, size_t> index;
    for (size_t i = 0; i < ids.size(); ++i) {
      index.emplace(ids[i], i);
      view.exits.push_back({ids[i], names[i], tos[i], {}});
    }
    for (size_t i = 0; i < aliases.size(); ++i) {
      if (auto it = index.find(alias_exits[i]); it != index.end()) {
        view.exits[it->second].aliases.push_back(aliases[i]);
      }
    }
    view.present = TextArray(row[8]);
    return std::optional<RoomView>(std::move(view));
  });
  if (!r) return r.error();
  if (!*r) return NotFound("no such location");
  return std::move(**r);
}

Result<Character> PgStore::GetCharacter(const std::string& id) {
  auto r = db_.Autocommit<std::optional<Character>>([&](pqxx::transaction_base& txn) {
    auto rows = txn.exec_prepared(kGetCharacter, id);
    if (rows.empty()) return std::optional<Character>();
    return std::optional<Character>(CharacterFrom(rows[0]));
  });
  if (!r) return r.error();
  if (!*r) return NotFound("no such character");
  return **r;
}

Result<Character> PgStore::FindCharacter(const std::string& name) {
  auto r = db_.Autocommit<std::optional<Character>>([&](pqxx::transaction_base& txn) {
    auto rows = txn.exec_prepared(kFindCharacter, name);
    if (rows.empty()) return std::optional<Character>();
    return std::optional<Character>(CharacterFrom(rows[0]));
  });
  if (!r) return r.error();
  if (!*r) return NotFound("no such character");
  return **r;
}

Status PgStore::MoveCharacter(const std::string& character_id, const std::string& location_id) {
  return Exec(db_, [&](pqxx::transaction_base& txn) {
    txn.exec_prepared(kMoveCharacter, character_id, location_id);
  });
}

Result<std::vector<ExitCandidate>> PgStore::ExitCandidates(
    const std::string& location_id, const std::string& text,
    const std::vector<std::string>& variants) {
  return db_.Autocommit<std::vector<ExitCandidate>>([&](pqxx::transaction_base& txn) {
    std::vector<ExitCandidate> out;
    for (const auto& row :
         txn.exec_prepared(kExitCandidates, location_id, text, ToPgArray(variants))) {
      out.push_back(
          {Exit{row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<std::string>(), {}},
           row[3].as<bool>(), row[4].as<double>()});
    }
    return out;
  });
}

Result<Location> PgStore::Dig(const std::string& from_id, const std::vector<std::string>& names,
                              const std::string& location_name,
                              const std::vector<std::string>& return_names) {
  return db_.Transact<Location>([&](pqxx::work& txn) {
    auto row = txn.exec_params1(
        "INSERT INTO locations (name) VALUES ($1) RETURNING id, name, description", location_name);
    Location loc{row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<std::string>()};
    InsertExit(txn, from_id, loc.id, names);
    if (!return_names.empty()) InsertExit(txn, loc.id, from_id, return_names);
    return loc;
  });
}

Result<Location> PgStore::Link(const std::string& from_id, const std::vector<std::string>& names,
                               const std::string& location) {
  auto r = db_.Transact<std::optional<Location>>([&](pqxx::work& txn) {
    auto rows = txn.exec_params(
        "SELECT id, name, description FROM locations"
        " WHERE id::text = $1 OR lower(name) = lower($1) ORDER BY created_at LIMIT 1",
        location);
    if (rows.empty()) return std::optional<Location>();
    Location loc{rows[0][0].as<std::string>(), rows[0][1].as<std::string>(),
                 rows[0][2].as<std::string>()};
    InsertExit(txn, from_id, loc.id, names);
    return std::optional<Location>(loc);
  });
  if (!r) return r.error();
  if (!*r) return NotFound("no such location");
  return **r;
}

Status PgStore::Describe(const std::string& location_id, const std::string& text) {
  return Exec(db_, [&](pqxx::transaction_base& txn) {
    txn.exec_params("UPDATE locations SET description = $2 WHERE id = $1::uuid", location_id, text);
  });
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

// ---- sessions ----

Result<std::string> PgStore::CreateSession(const std::string& player_id,
                                           const std::string& character_id,
                                           const std::string& resume_token_hash) {
  return db_.Autocommit<std::string>([&](pqxx::transaction_base& txn) {
    return txn
        .exec_params1(
            "INSERT INTO sessions (player_id, character_id, resume_token_hash, detached_at)"
            " VALUES ($1::uuid, $2::uuid, $3, now()) RETURNING id",
            player_id, character_id, resume_token_hash)[0]
        .as<std::string>();
  });
}

Result<SessionRecord> PgStore::GetSession(const std::string& id) {
  // Anything but a canonical uuid names no session; checked here so the lookup can use the
  // primary key (`id::text = $1` read the whole table).
  static const std::regex kUuid("^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$");
  if (!std::regex_match(id, kUuid)) return NotFound("no such session");
  auto r = db_.Autocommit<std::optional<SessionRecord>>([&](pqxx::transaction_base& txn) {
    auto rows = txn.exec_params(
        "SELECT id, player_id, character_id, resume_token_hash, ended_at IS NOT NULL,"
        " (extract(epoch FROM created_at) * 1000)::bigint FROM sessions WHERE id = $1::uuid",
        id);
    if (rows.empty()) return std::optional<SessionRecord>();
    const auto& row = rows[0];
    return std::optional<SessionRecord>(
        SessionRecord{row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<std::string>(),
                      row[3].as<std::string>(), row[4].as<bool>(), row[5].as<int64_t>()});
  });
  if (!r) return r.error();
  if (!*r) return NotFound("no such session");
  return **r;
}

Status PgStore::SetConnected(const std::string& id, bool connected) {
  return Exec(db_, [&](pqxx::transaction_base& txn) {
    txn.exec_params(
        "UPDATE sessions SET connected = $2, last_active_at = now(),"
        " detached_at = CASE WHEN $2 THEN NULL ELSE now() END,"
        " lease_until = CASE WHEN $2 THEN now() + interval '30 seconds' ELSE NULL END"
        " WHERE id = $1::uuid",
        id, connected);
  });
}

Status PgStore::EndSession(const std::string& id) {
  return Exec(db_, [&](pqxx::transaction_base& txn) {
    txn.exec_params(
        "UPDATE sessions SET ended_at = now(), connected = false WHERE id = $1::uuid"
        " AND ended_at IS NULL",
        id);
  });
}

Result<std::vector<std::string>> PgStore::ExpireDetached(std::chrono::seconds linger) {
  return db_.Autocommit<std::vector<std::string>>([&](pqxx::transaction_base& txn) {
    std::vector<std::string> out;
    for (const auto& r : txn.exec_params(
             // Sessions ended a week ago are deleted on the way: the table stays small.
             "WITH pruned AS (DELETE FROM sessions WHERE ended_at < now() - interval '7 days')"
             " UPDATE sessions SET ended_at = now(), connected = false WHERE ended_at IS NULL"
             " AND ((NOT connected AND coalesce(detached_at, created_at)"
             "       < now() - make_interval(secs => $1))"
             "   OR (connected AND lease_until < now() - make_interval(secs => $1)))"
             " RETURNING id",
             static_cast<double>(linger.count()))) {
      out.push_back(r[0].as<std::string>());
    }
    return out;
  });
}

Result<std::vector<WhoRow>> PgStore::Who() {
  return db_.Autocommit<std::vector<WhoRow>>([&](pqxx::transaction_base& txn) {
    std::vector<WhoRow> out;
    for (const auto& r :
         txn.exec("SELECT c.name, extract(epoch FROM now() - max(s.last_active_at))::bigint"
                  " FROM sessions s JOIN characters c ON c.id = s.character_id"
                  " WHERE s.ended_at IS NULL AND s.connected AND s.lease_until > now()"
                  " GROUP BY c.name ORDER BY c.name")) {
      out.push_back({r[0].as<std::string>(), r[1].as<int64_t>()});
    }
    return out;
  });
}

Status PgStore::RenewLeases(const std::vector<std::string>& ids,
                            const std::vector<std::string>& active) {
  if (ids.empty()) return Ok{};
  return Exec(db_, [&](pqxx::transaction_base& txn) {
    txn.exec_params(
        "UPDATE sessions SET lease_until = now() + interval '30 seconds',"
        " last_active_at = CASE WHEN id = ANY($2::uuid[]) THEN now() ELSE last_active_at END"
        " WHERE id = ANY($1::uuid[]) AND connected AND ended_at IS NULL",
        ToPgArray(ids), ToPgArray(active));
  });
}

Result<std::vector<std::string>> PgStore::SessionsOf(const std::string& character_id) {
  return db_.Autocommit<std::vector<std::string>>([&](pqxx::transaction_base& txn) {
    std::vector<std::string> out;
    for (const auto& r : txn.exec_params(
             "SELECT id FROM sessions WHERE character_id = $1::uuid AND ended_at IS NULL",
             character_id)) {
      out.push_back(r[0].as<std::string>());
    }
    return out;
  });
}

// ---- events ----

std::vector<std::string> NotifyPayloads(const std::vector<EventRecord>& events, size_t max_bytes) {
  std::vector<std::string> out;
  std::string current;
  for (const auto& e : events) {
    if (!current.empty() && current.size() + 1 + e.id.size() > max_bytes) {
      out.push_back(std::move(current));
      current.clear();
    }
    if (!current.empty()) current += ',';
    current += e.id;
  }
  if (!current.empty()) out.push_back(std::move(current));
  return out;
}

Status PgStore::AppendBatch(const std::vector<EventRecord>& events, const std::string& channel) {
  if (events.empty()) return Ok{};
  // One round trip: the INSERT and its NOTIFYs go as one simple query, which PostgreSQL
  // runs as one implicit transaction (all or nothing, notifications sent at its commit).
  // Not retried: a lost connection leaves the outcome unknown, and the ids are the primary
  // key, so the caller decides (it reports the failure to the player).
  return Exec(
      db_,
      [&](pqxx::transaction_base& txn) {
        std::string sql =
            "INSERT INTO events (id, stream, type, actor_id, actor_name, payload, created_at)"
            " VALUES ";
        for (size_t i = 0; i < events.size(); ++i) {
          const auto& e = events[i];
          if (i) sql += ',';
          sql += '(' + txn.quote(e.id) + ',' + txn.quote(e.stream) + ',' + txn.quote(e.type) + ',' +
                 (e.actor_id.empty() ? std::string("NULL") : txn.quote(e.actor_id) + "::uuid") +
                 ',' + txn.quote(e.actor_name) + ',' +
                 txn.quote(e.payload_json.empty() ? e.payload.dump() : e.payload_json) +
                 "::jsonb, to_timestamp(" + std::to_string(e.unix_millis) + " / 1000.0))";
        }
        for (const auto& payload : NotifyPayloads(events)) {
          sql += ";NOTIFY " + txn.quote_name(channel) + ", " + txn.quote(payload);
        }
        txn.exec(sql);
      },
      false);
}

Result<std::vector<EventRecord>> PgStore::ReadAfter(const std::vector<std::string>& streams,
                                                    const std::string& after_id, int limit) {
  return db_.Autocommit<std::vector<EventRecord>>([&](pqxx::transaction_base& txn) {
    std::vector<EventRecord> out;
    for (const auto& row : txn.exec_params(std::string("SELECT ") + kEventColumns +
                                               " FROM events WHERE stream = ANY($1::text[])"
                                               " AND id > $2 ORDER BY id LIMIT $3",
                                           ToPgArray(streams), after_id, limit)) {
      out.push_back(EventFrom(row));
    }
    return out;
  });
}

Result<std::vector<EventRecord>> PgStore::ReadIds(const std::vector<std::string>& ids) {
  return db_.Autocommit<std::vector<EventRecord>>([&](pqxx::transaction_base& txn) {
    std::vector<EventRecord> out;
    for (const auto& row : txn.exec_params(std::string("SELECT ") + kEventColumns +
                                               " FROM events WHERE id = ANY($1::text[])"
                                               " ORDER BY id",
                                           ToPgArray(ids))) {
      out.push_back(EventFrom(row));
    }
    return out;
  });
}

}  // namespace holomush::core
