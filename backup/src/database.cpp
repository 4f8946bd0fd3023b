#include "database.hpp"

#include <pqxx/pqxx>

#include "conninfo.hpp"

namespace holomush::backup {
namespace {

using common::ErrorKind;
using common::MakeError;

// libpq's messages name hosts and users, never passwords; Redact is a second guard.
common::Error Translate(const std::exception& e, const std::string& url) {
  // One line: libpq continues its messages on tab-indented lines.
  std::string message;
  for (char c : std::string(e.what())) {
    if (c == '\n' || c == '\t') {
      if (!message.empty() && message.back() != ' ') message += ' ';
    } else {
      message += c;
    }
  }
  while (!message.empty() && message.back() == ' ') message.pop_back();
  ErrorKind kind = ErrorKind::kInternal;
  if (dynamic_cast<const pqxx::broken_connection*>(&e) != nullptr) kind = ErrorKind::kUnavailable;
  if (const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e)) {
    if (sql->sqlstate() == "42501") kind = ErrorKind::kPermissionDenied;
  }
  std::optional<std::string> password;
  if (auto conn = ParseConnection(url)) password = conn->password;
  return MakeError(kind, Redact(message, password));
}

int SchemaVersion(pqxx::transaction_base& txn) {
  if (!txn.exec1("SELECT to_regclass('schema_migrations') IS NOT NULL")[0].as<bool>()) return 0;
  return txn.exec1("SELECT coalesce(max(version), 0) FROM schema_migrations")[0].as<int>();
}

}  // namespace

struct SnapshotSession::State {
  pqxx::connection conn;
  std::unique_ptr<
      pqxx::transaction<pqxx::isolation_level::repeatable_read, pqxx::readwrite_policy::read_only>>
      txn;
  explicit State(const std::string& url) : conn(url) {}
};

SnapshotSession::SnapshotSession(std::unique_ptr<State> state, SourceInfo info)
    : state_(std::move(state)), info_(std::move(info)) {}

SnapshotSession::~SnapshotSession() {
  try {
    if (state_->txn) state_->txn->commit();
  } catch (const std::exception&) {
    // The transaction only pinned a snapshot; a server that ended it meanwhile lost nothing.
  }
}

common::Result<std::unique_ptr<SnapshotSession>> SnapshotSession::Open(
    const std::string& database_url) {
  try {
    auto state = std::make_unique<State>(database_url);
    state->txn =
        std::make_unique<pqxx::transaction<pqxx::isolation_level::repeatable_read,
                                           pqxx::readwrite_policy::read_only>>(state->conn);
    auto& txn = *state->txn;
    SourceInfo info;
    info.snapshot = txn.exec1("SELECT pg_export_snapshot()")[0].as<std::string>();
    auto row = txn.exec1(
        "SELECT current_database(), current_setting('server_version'),"
        " current_setting('server_version_num')::int");
    info.database = row[0].as<std::string>();
    info.server_version = row[1].as<std::string>();
    info.server_version_num = row[2].as<int>();
    info.schema_version = SchemaVersion(txn);
    return std::unique_ptr<SnapshotSession>(new SnapshotSession(std::move(state), info));
  } catch (const std::exception& e) {
    return Translate(e, database_url);
  }
}

common::Result<int> ReadSchemaVersion(const std::string& database_url) {
  try {
    pqxx::connection conn(database_url);
    pqxx::read_transaction txn(conn);
    return SchemaVersion(txn);
  } catch (const std::exception& e) {
    return Translate(e, database_url);
  }
}

common::Result<std::vector<std::string>> ListUserTables(const std::string& database_url) {
  try {
    pqxx::connection conn(database_url);
    pqxx::read_transaction txn(conn);
    std::vector<std::string> tables;
    for (const auto& row : txn.exec(
             "SELECT n.nspname || '.' || c.relname FROM pg_class c"
             " JOIN pg_namespace n ON n.oid = c.relnamespace"
             " WHERE c.relkind IN ('r', 'p')"
             " AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
             " AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'"
             " AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass"
             "   AND d.objid = c.oid AND d.deptype = 'e')"
             " ORDER BY 1")) {
      tables.push_back(row[0].as<std::string>());
    }
    return tables;
  } catch (const std::exception& e) {
    return Translate(e, database_url);
  }
}

common::Status DropTables(const std::string& database_url, const std::vector<std::string>& tables) {
  try {
    pqxx::connection conn(database_url);
    pqxx::work txn(conn);
    for (const auto& qualified : tables) {
      const auto dot = qualified.find('.');
      txn.exec("DROP TABLE IF EXISTS " + txn.quote_name(qualified.substr(0, dot)) + "." +
               txn.quote_name(qualified.substr(dot + 1)) + " CASCADE");
    }
    txn.commit();
    return common::Ok{};
  } catch (const std::exception& e) {
    return Translate(e, database_url);
  }
}

common::Status Analyze(const std::string& database_url) {
  try {
    pqxx::connection conn(database_url);
    pqxx::nontransaction txn(conn);
    txn.exec("ANALYZE");
    return common::Ok{};
  } catch (const std::exception& e) {
    return Translate(e, database_url);
  }
}

common::Status CreateExtension(const std::string& database_url, const std::string& name) {
  try {
    pqxx::connection conn(database_url);
    pqxx::nontransaction txn(conn);
    txn.exec("CREATE EXTENSION IF NOT EXISTS " + conn.quote_name(name));
    return common::Ok{};
  } catch (const std::exception& e) {
    return Translate(e, database_url);
  }
}

}  // namespace holomush::backup
