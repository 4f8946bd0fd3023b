#include "store/migrations.hpp"

#include <stdexcept>

namespace holomush::core {
namespace {

// An arbitrary constant shared by every HoloMUSH process: "HOLOMUSH" in ASCII, truncated.
constexpr long long kMigrationLockKey = 0x484f4c4f4d5553;

void Prepare(pqxx::work& txn) {
  txn.exec("SELECT pg_advisory_xact_lock(" + std::to_string(kMigrationLockKey) + ")");
  txn.exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations ("
      " version integer PRIMARY KEY, name text NOT NULL,"
      " applied_at timestamptz NOT NULL DEFAULT now())");
}

void RefuseNewer(int current) {
  if (current > LatestSchemaVersion()) {
    throw std::runtime_error("database schema version " + std::to_string(current) +
                             " is newer than this binary supports (" +
                             std::to_string(LatestSchemaVersion()) +
                             "); run a newer holomush or restore a matching backup");
  }
}

std::string Label(const Migration& m) { return std::to_string(m.version) + " " + m.name; }

}  // namespace

int LatestSchemaVersion() { return Migrations().empty() ? 0 : Migrations().back().version; }

int CurrentSchemaVersion(pqxx::transaction_base& txn) {
  auto exists = txn.exec1("SELECT to_regclass('schema_migrations') IS NOT NULL")[0].as<bool>();
  if (!exists) return 0;
  auto r = txn.exec1("SELECT coalesce(max(version), 0) FROM schema_migrations");
  return r[0].as<int>();
}

std::vector<std::string> MigrateUp(pqxx::connection& conn) {
  std::vector<std::string> applied;
  pqxx::work txn(conn);
  Prepare(txn);
  const int current = CurrentSchemaVersion(txn);
  RefuseNewer(current);
  for (const auto& m : Migrations()) {
    if (m.version <= current) continue;
    txn.exec(m.up);
    txn.exec_params("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.version,
                    m.name);
    applied.push_back(Label(m));
  }
  txn.commit();
  // Optional: query statistics for the guide's pg_stat_statements queries. Needs the library
  // preloaded and enough privilege; skipped quietly otherwise.
  try {
    pqxx::work ext(conn);
    ext.exec("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
    ext.commit();
  } catch (const std::exception&) {
  }
  return applied;
}

std::vector<std::string> MigrateDown(pqxx::connection& conn, int steps) {
  std::vector<std::string> reverted;
  pqxx::work txn(conn);
  Prepare(txn);
  const int current = CurrentSchemaVersion(txn);
  RefuseNewer(current);
  const auto& all = Migrations();
  for (auto it = all.rbegin(); it != all.rend() && steps > 0; ++it) {
    if (it->version > current) continue;
    txn.exec(it->down);
    txn.exec_params("DELETE FROM schema_migrations WHERE version = $1", it->version);
    reverted.push_back(Label(*it));
    --steps;
  }
  txn.commit();
  return reverted;
}

MigrationStatus GetMigrationStatus(pqxx::connection& conn) {
  MigrationStatus status;
  pqxx::read_transaction txn(conn);
  status.current = CurrentSchemaVersion(txn);
  status.latest = LatestSchemaVersion();
  for (const auto& m : Migrations()) {
    (m.version <= status.current ? status.applied : status.pending).push_back(Label(m));
  }
  return status;
}

}  // namespace holomush::core
