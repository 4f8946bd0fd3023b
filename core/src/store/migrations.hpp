// Versioned schema migrations compiled into the binary (core/migrations/*.sql).
#pragma once

#include <pqxx/pqxx>
#include <string>
#include <vector>

namespace holomush::core {

struct Migration {
  int version;
  std::string name;
  std::string up;
  std::string down;
};

// All migrations, ascending by version (generated from core/migrations).
const std::vector<Migration>& Migrations();
int LatestSchemaVersion();

struct MigrationStatus {
  int current = 0;
  int latest = 0;
  std::vector<std::string> applied;  // "1 initial"
  std::vector<std::string> pending;
};

// Each runs in one transaction holding an advisory lock, so concurrent runners (two core
// replicas starting together) are serialised. All throw std::runtime_error with a clear
// message, e.g. when the database is newer than this binary.
// Returns the versions applied ("1 initial").
std::vector<std::string> MigrateUp(pqxx::connection& conn);
std::vector<std::string> MigrateDown(pqxx::connection& conn, int steps);
MigrationStatus GetMigrationStatus(pqxx::connection& conn);
// The version recorded in the database (0 when none).
int CurrentSchemaVersion(pqxx::transaction_base& txn);

}  // namespace holomush::core
