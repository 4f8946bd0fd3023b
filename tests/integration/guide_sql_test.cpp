// The operations guide's SQL, run exactly as written against our schema.
#include <gtest/gtest.h>

#include <algorithm>
#include <iterator>
#include <vector>

#include "db_helpers.hpp"
#include "support/core_harness.hpp"
#include "support/postgres.hpp"
#include "support/process.hpp"
#include "support/wait.hpp"

namespace holomush::testing {
namespace {

class GuideSqlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    url_ = FreshDatabase("guide");
    ChildProcess migrate({HOLOMUSH_BINARY, "migrate", "up"}, {{"DATABASE_URL", url_}});
    ASSERT_EQ(migrate.Wait(std::chrono::seconds(60)), 0) << migrate.Output();
  }
  std::string url_;
};

TEST_F(GuideSqlTest, EventsByStreamUsesAnIndex) {
  // Enough events over enough streams that the planner's choice means something.
  ExecSql(url_,
          "INSERT INTO events (id, stream, type, payload)"
          " SELECT lpad(to_hex(g), 26, '0'), 'room:' || (g % 500), 'say', '{}'"
          " FROM generate_series(1, 50000) g");
  ExecSql(url_, "ANALYZE events");
  pqxx::connection conn(url_);
  pqxx::nontransaction txn(conn);
  auto plan = txn.exec(
      "EXPLAIN ANALYZE SELECT * FROM events WHERE stream = 'room:123' ORDER BY id DESC LIMIT 100;");
  std::string text;
  for (const auto& row : plan) text += row[0].as<std::string>() + "\n";
  EXPECT_NE(text.find("Index Scan"), std::string::npos) << text;
  EXPECT_NE(text.find("events_stream_id_idx"), std::string::npos) << text;
  EXPECT_EQ(text.find("Seq Scan"), std::string::npos) << text;
}

TEST_F(GuideSqlTest, AliasRecoveryStatementsRun) {
  ExecSql(url_,
          "INSERT INTO players (id, username, password_hash) VALUES"
          " ('11111111-1111-1111-1111-111111111111', 'ana', 'x')");
  ExecSql(url_,
          "INSERT INTO player_aliases (player_id, alias, command) VALUES"
          " ('11111111-1111-1111-1111-111111111111', 'loop', 'loop')");
  ExecSql(url_, "INSERT INTO system_aliases (alias, command) VALUES ('sysloop', 'sysloop')");
  ExecSql(url_,
          "DELETE FROM player_aliases WHERE player_id = '11111111-1111-1111-1111-111111111111' AND "
          "alias = 'loop';");
  ExecSql(url_, "DELETE FROM system_aliases WHERE alias = 'sysloop';");
  // The guide's verification, with the alias name filled in: nothing is left.
  EXPECT_EQ(
      QueryOne(url_, "SELECT count(*) FROM (SELECT * FROM player_aliases WHERE alias = 'loop') t"),
      "0");
  EXPECT_EQ(
      QueryOne(url_,
               "SELECT count(*) FROM (SELECT * FROM system_aliases WHERE alias = 'sysloop') t"),
      "0");
  EXPECT_EQ(QueryOne(url_, "SELECT count(*) FROM player_aliases"), "0");
  EXPECT_EQ(QueryOne(url_, "SELECT count(*) FROM system_aliases"), "0");
}

TEST_F(GuideSqlTest, TheListenQueryFindsCoresListenerEvenAfterItsKeepAlive) {
  CoreProcess core(url_);
  ASSERT_TRUE(core.Start()) << core.process().Output();
  ASSERT_TRUE(core.WaitReady()) << core.process().Output();
  // The guide's query, as written, narrowed to this test's database.
  const std::string listeners =
      "SELECT query || ' at ' || query_start FROM (SELECT pid, datname, usename,"
      " application_name, state, query, query_start FROM pg_stat_activity WHERE"
      " query LIKE 'LISTEN%' OR wait_event_type = 'Client') guide WHERE datname = '" +
      QueryOne(url_, "SELECT current_database()") +
      "' AND application_name = 'holomush-core-listener'";
  std::string first;
  ASSERT_TRUE(WaitUntil([&] { return !(first = QueryOne(url_, listeners)).empty(); }))
      << core.process().Output();
  EXPECT_EQ(first.rfind("LISTEN ", 0), 0u) << first;
  // Still found after the listener's keep-alive query has run (query_start moves on).
  std::string later;
  EXPECT_TRUE(WaitUntil(
      [&] {
        later = QueryOne(url_, listeners);
        return !later.empty() && later != first;
      },
      std::chrono::seconds(10)))
      << "first: " << first << " later: " << later;
  EXPECT_EQ(later.rfind("LISTEN ", 0), 0u) << later;
  // The pool's connections name themselves too.
  EXPECT_TRUE(WaitUntil([&] {
    return QueryOne(url_,
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = "
                    "'holomush-core' AND datname = current_database()") != "0";
  }));
}

TEST_F(GuideSqlTest, MonitoringQueriesRun) {
  const char* queries[] = {
      "SELECT calls, round(total_exec_time::numeric, 2) as total_ms, "
      "round(mean_exec_time::numeric, "
      "2) as mean_ms, round(stddev_exec_time::numeric, 2) as stddev_ms, rows, query FROM "
      "pg_stat_statements ORDER BY total_exec_time DESC LIMIT 10;",
      "SELECT state, count(*) FROM pg_stat_activity WHERE datname = 'holomush' GROUP BY state;",
      "SELECT pid, datname, usename, application_name, state, query FROM pg_stat_activity WHERE "
      "query LIKE 'LISTEN%' OR wait_event_type = 'Client';",
      "SELECT schemaname, relname as table_name, indexrelname as index_name, idx_scan, "
      "pg_size_pretty(pg_relation_size(indexrelid)) as index_size FROM pg_stat_user_indexes WHERE "
      "idx_scan = 0 ORDER BY pg_relation_size(indexrelid) DESC;",
      "SELECT relname as table_name, pg_size_pretty(pg_total_relation_size(relid)) as total_size, "
      "pg_size_pretty(pg_relation_size(relid)) as table_size, "
      "pg_size_pretty(pg_indexes_size(relid)) "
      "as index_size, n_live_tup as live_rows, n_dead_tup as dead_rows FROM pg_stat_user_tables "
      "ORDER BY pg_total_relation_size(relid) DESC;",
  };
  // Each runs and gives the guide's columns; the statistics and the table list have rows.
  // (tests/guide/run.sh runs every query of the guide against a database named holomush.)
  const std::vector<std::vector<std::string>> columns = {
      {"calls", "total_ms", "mean_ms", "stddev_ms", "rows", "query"},
      {"state", "count"},
      {"pid", "datname", "usename", "application_name", "state", "query"},
      {"schemaname", "table_name", "index_name", "idx_scan", "index_size"},
      {"table_name", "total_size", "table_size", "index_size", "live_rows", "dead_rows"},
  };
  pqxx::connection conn(url_);
  for (size_t i = 0; i < std::size(queries); ++i) {
    pqxx::nontransaction txn(conn);
    pqxx::result r;
    try {
      r = txn.exec(queries[i]);
    } catch (const std::exception& e) {
      ADD_FAILURE() << queries[i] << ": " << e.what();
      continue;
    }
    std::vector<std::string> names;
    for (pqxx::row::size_type c = 0; c < r.columns(); ++c) names.push_back(r.column_name(c));
    EXPECT_EQ(names, columns[i]) << queries[i];
  }
  pqxx::nontransaction txn(conn);
  EXPECT_GT(txn.exec(queries[0]).size(), 0u) << "pg_stat_statements has no statements";
  std::vector<std::string> tables;
  for (const auto& row : txn.exec(queries[4])) tables.push_back(row[0].c_str());
  for (const char* table : {"events", "sessions", "player_aliases", "system_aliases"}) {
    EXPECT_NE(std::find(tables.begin(), tables.end(), table), tables.end()) << table;
  }
}

}  // namespace
}  // namespace holomush::testing
