// PgStore: sessions (leases, resume, who) and the event log.
#include <regex>

#include "store/pg_store.hpp"
#include "store/pg_support.hpp"

namespace holomush::core {

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

// Takes a process's lease, 30 seconds from now ($1: the process).
constexpr const char* kTakeLease =
    "INSERT INTO core_leases (id, lease_until) VALUES ($1::uuid, now() + interval '30 seconds')";

Status PgStore::Connect(const std::string& id, const std::string& core_id) {
  return Exec(db_, [&](pqxx::transaction_base& txn) {
    txn.exec_params(std::string("WITH lease AS (") + kTakeLease +
                        " ON CONFLICT (id) DO NOTHING)"
                        " UPDATE sessions SET connected = true, core_id = $1::uuid,"
                        " last_active_at = now(), detached_at = NULL WHERE id = $2::uuid",
                    core_id, id);
  });
}

Status PgStore::Disconnect(const std::string& id) {
  return Exec(db_, [&](pqxx::transaction_base& txn) {
    txn.exec_params(
        "UPDATE sessions SET connected = false, core_id = NULL, last_active_at = now(),"
        " detached_at = now() WHERE id = $1::uuid",
        id);
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
             // Sessions ended a week ago, and leases lapsed a week ago, are deleted on the
             // way: the tables stay small.
             "WITH pruned AS (DELETE FROM sessions WHERE ended_at < now() - interval '7 days'),"
             " lapsed AS (DELETE FROM core_leases WHERE lease_until < now() - interval '7 days')"
             " UPDATE sessions SET ended_at = now(), connected = false WHERE ended_at IS NULL"
             " AND ((NOT connected AND coalesce(detached_at, created_at)"
             "       < now() - make_interval(secs => $1))"
             "   OR (connected AND core_id NOT IN (SELECT id FROM core_leases"
             "       WHERE lease_until >= now() - make_interval(secs => $1))))"
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
                  " FROM sessions s JOIN core_leases l ON l.id = s.core_id"
                  " JOIN characters c ON c.id = s.character_id"
                  " WHERE s.ended_at IS NULL AND s.connected AND l.lease_until > now()"
                  " GROUP BY c.name ORDER BY c.name")) {
      out.push_back({r[0].as<std::string>(), r[1].as<int64_t>()});
    }
    return out;
  });
}

Status PgStore::RenewLease(const std::string& core_id, const std::vector<std::string>& active) {
  return Exec(db_, [&](pqxx::transaction_base& txn) {
    txn.exec_params(std::string("WITH lease AS (") + kTakeLease +
                        " ON CONFLICT (id) DO UPDATE SET lease_until = EXCLUDED.lease_until)"
                        " UPDATE sessions SET last_active_at = now()"
                        " WHERE id = ANY($2::uuid[]) AND connected AND ended_at IS NULL",
                    core_id, ToPgArray(active));
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
