// PgStore: its prepared statements, and the world (locations, exits, characters).
#include "store/pg_store.hpp"

#include <stdexcept>
#include <unordered_map>

#include "store/pg_support.hpp"

namespace holomush::core {

PgStore::PgStore(Database& db) : db_(db) {
  db_.Define(kPresentAt, kPresentSql);
  // Exits as parallel arrays in one order (arrays parse far cheaper than JSON in a room
  // with hundreds of exits), and the aliases as (exit id, alias) pairs in two more.
  const std::string exits_here =
      " FROM exits e WHERE e.from_location_id = l.id ORDER BY e.name, e.id)";
  const std::string aliases_here =
      " FROM exits e JOIN exit_aliases a ON a.exit_id = e.id"
      " WHERE e.from_location_id = l.id ORDER BY e.name, e.id, a.alias)";
  db_.Define(kGetPlace, "SELECT l.id, l.name, l.description, ARRAY(SELECT e.id::text" + exits_here +
                            ", ARRAY(SELECT e.name" + exits_here +
                            ", ARRAY(SELECT e.to_location_id::text" + exits_here +
                            ", ARRAY(SELECT e.id::text" + aliases_here + ", ARRAY(SELECT a.alias" +
                            aliases_here + " FROM locations l WHERE l.id = $1::uuid");
  db_.Define(kGetCharacter,
             "SELECT id, player_id, name, location_id FROM characters WHERE id = $1::uuid");
  db_.Define(kFindCharacter,
             "SELECT id, player_id, name, location_id FROM characters"
             " WHERE lower(name) = lower($1)");
  db_.Define(kMoveCharacter, "UPDATE characters SET location_id = $2::uuid WHERE id = $1::uuid");
}

// ---- world ----

Result<std::vector<std::string>> PgStore::PresentAt(const std::string& location_id) {
  return db_.Autocommit<std::vector<std::string>>([&](pqxx::transaction_base& txn) {
    std::vector<std::string> out;
    for (const auto& row : txn.exec_prepared(kPresentAt, location_id)) {
      out.push_back(row[0].as<std::string>());
    }
    return out;
  });
}

Result<Place> PgStore::GetPlace(const std::string& location_id) {
  auto r = db_.Autocommit<std::optional<Place>>([&](pqxx::transaction_base& txn) {
    auto rows = txn.exec_prepared(kGetPlace, location_id);
    if (rows.empty()) return std::optional<Place>();
    const auto& row = rows[0];
    Place view;
    view.location = {row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<std::string>()};
    const auto ids = TextArray(row[3]);
    const auto names = TextArray(row[4]);
    const auto tos = TextArray(row[5]);
    const auto alias_exits = TextArray(row[6]);
    const auto aliases = TextArray(row[7]);
    if (names.size() != ids.size() || tos.size() != ids.size() ||
        aliases.size() != alias_exits.size()) {
      throw std::runtime_error("place: arrays of different lengths");
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
    return std::optional<Place>(std::move(view));
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

}  // namespace holomush::core
