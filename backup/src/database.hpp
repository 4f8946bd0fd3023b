// The SQL a backup needs: an exported snapshot for pg_dump, schema version, the target's tables.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "holomush/common/result.hpp"

namespace holomush::backup {

struct SourceInfo {
  std::string database;
  std::string server_version;
  int server_version_num = 0;
  int schema_version = 0;  // max(version) in schema_migrations; 0 when there is none
  std::string snapshot;    // for pg_dump --snapshot
};

// A read-only repeatable-read transaction that exports its snapshot, so the schema version in
// the manifest is read from exactly the data pg_dump writes. Open until destroyed; one thread.
class SnapshotSession {
 public:
  static common::Result<std::unique_ptr<SnapshotSession>> Open(const std::string& database_url);
  ~SnapshotSession();
  SnapshotSession(const SnapshotSession&) = delete;
  SnapshotSession& operator=(const SnapshotSession&) = delete;
  const SourceInfo& info() const { return info_; }

 private:
  struct State;
  SnapshotSession(std::unique_ptr<State> state, SourceInfo info);
  std::unique_ptr<State> state_;
  SourceInfo info_;
};

common::Result<int> ReadSchemaVersion(const std::string& database_url);
// Ordinary and partitioned tables outside the system schemas that no extension owns, as
// "schema.table", sorted. A database with none counts as empty.
common::Result<std::vector<std::string>> ListUserTables(const std::string& database_url);
// DROP TABLE IF EXISTS ... CASCADE for each "schema.table", in one transaction.
common::Status DropTables(const std::string& database_url, const std::vector<std::string>& tables);
// Restored tables have no planner statistics until ANALYZE.
common::Status Analyze(const std::string& database_url);
// CREATE EXTENSION IF NOT EXISTS `name` (an identifier from our own list).
common::Status CreateExtension(const std::string& database_url, const std::string& name);

}  // namespace holomush::backup
