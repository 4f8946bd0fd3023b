// What the PgStore's units share: statement names, row readers and the autocommit helper.
// Included only by store/pg_*.cpp.
#pragma once

#include <string>
#include <vector>

#include "store/pg_store.hpp"

namespace holomush::core {

using common::ErrorKind;
using common::Ok;

// A text[] literal for a bound parameter (libpqxx 6 has no vector conversion).
inline std::string ToPgArray(const std::vector<std::string>& items) {
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
inline std::vector<std::string> TextArray(const pqxx::field& field) {
  std::vector<std::string> out;
  auto parser = field.as_array();
  for (auto item = parser.get_next(); item.first != pqxx::array_parser::done;
       item = parser.get_next()) {
    if (item.first == pqxx::array_parser::string_value) out.push_back(std::move(item.second));
  }
  return out;
}

inline Character CharacterFrom(const pqxx::row& r) {
  return {r["id"].as<std::string>(), r["player_id"].as<std::string>(), r["name"].as<std::string>(),
          r["location_id"].as<std::string>()};
}

inline EventRecord EventFrom(const pqxx::row& r) {
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

inline constexpr const char* kEventColumns =
    "id, stream, type, actor_id, actor_name, payload::text AS payload,"
    " (extract(epoch FROM created_at) * 1000)::bigint AS unix_millis";

// The statements of every command's path, prepared once per connection (see PgStore()).
inline constexpr const char* kPresentAt = "present_at";
inline constexpr const char* kGetPlace = "get_place";
inline constexpr const char* kGetCharacter = "get_character";
inline constexpr const char* kFindCharacter = "find_character";
inline constexpr const char* kMoveCharacter = "move_character";

// Characters at a location with a session that has not ended ($1: the location).
inline constexpr const char* kPresentSql =
    "SELECT c.name FROM characters c WHERE c.location_id = $1::uuid AND EXISTS"
    " (SELECT 1 FROM sessions s WHERE s.character_id = c.id AND s.ended_at IS NULL)"
    " ORDER BY c.name";

inline Error NotFound(const std::string& what) { return {ErrorKind::kNotFound, what}; }

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
inline void InsertExit(pqxx::work& txn, const std::string& from, const std::string& to,
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

}  // namespace holomush::core
