#include <gtest/gtest.h>

#include <future>

#include "db_helpers.hpp"
#include "support/core_harness.hpp"
#include "support/postgres.hpp"
#include "support/process.hpp"

namespace holomush::testing {
namespace {

int Migrate(const std::string& url, std::vector<std::string> args, std::string* output = nullptr) {
  std::vector<std::string> argv = {HOLOMUSH_BINARY, "migrate"};
  argv.insert(argv.end(), args.begin(), args.end());
  ChildProcess p(argv, {{"DATABASE_URL", url}});
  auto code = p.Wait(std::chrono::seconds(60));
  if (output) *output = p.Output();
  return code.value_or(-1);
}

TEST(MigrationsTest, UpDownUpLeavesTheSameSchema) {
  const auto url = FreshDatabase("mig");
  std::string out;
  ASSERT_EQ(Migrate(url, {"up"}, &out), 0) << out;
  EXPECT_NE(out.find("applied 1 initial"), std::string::npos) << out;
  EXPECT_EQ(QueryOne(url, "SELECT count(*) FROM schema_migrations"), "6");
  EXPECT_EQ(QueryOne(url, "SELECT name FROM locations"), "The Nexus");
  const auto tables =
      "SELECT string_agg(table_name, ',' ORDER BY table_name) FROM information_schema.tables"
      " WHERE table_schema = 'public' AND table_type = 'BASE TABLE'";
  const auto before = QueryOne(url, tables);
  for (const char* t : {"players", "characters", "locations", "exits", "events", "sessions",
                        "player_aliases", "system_aliases", "system_info"}) {
    EXPECT_NE(before.find(t), std::string::npos) << t;
  }
  EXPECT_NE(before.find("login_failures"), std::string::npos) << before;
  EXPECT_EQ(QueryOne(url,
                     "SELECT count(*) FROM pg_trigger WHERE tgname LIKE '%_notify'"
                     " OR tgname LIKE '%_forget_all'"),
            "8");
  EXPECT_NE(before.find("core_leases"), std::string::npos) << before;
  ASSERT_EQ(Migrate(url, {"down", "1"}, &out), 0) << out;
  EXPECT_NE(out.find("reverted 6 core_lease"), std::string::npos) << out;
  EXPECT_EQ(QueryOne(url, tables).find("core_leases"), std::string::npos);
  EXPECT_EQ(
      QueryOne(url,
               "SELECT string_agg(column_name, ',') FROM information_schema.columns"
               " WHERE table_name = 'sessions' AND column_name IN ('lease_until', 'core_id')"),
      "lease_until");
  ASSERT_EQ(Migrate(url, {"down", "1"}, &out), 0) << out;
  EXPECT_NE(out.find("reverted 5 world_notify_trigger"), std::string::npos) << out;
  EXPECT_EQ(QueryOne(url, "SELECT count(*) FROM pg_proc WHERE proname LIKE 'holomush_world%'"),
            "0");
  ASSERT_EQ(Migrate(url, {"down", "1"}, &out), 0) << out;
  EXPECT_NE(out.find("reverted 4 alias_notify_trigger"), std::string::npos) << out;
  EXPECT_EQ(QueryOne(url, "SELECT count(*) FROM pg_trigger WHERE tgname LIKE '%aliases_%'"), "0");
  ASSERT_EQ(Migrate(url, {"down", "1"}, &out), 0) << out;
  EXPECT_NE(out.find("reverted 3 login_backoff"), std::string::npos) << out;
  EXPECT_EQ(QueryOne(url, tables).find("login_failures"), std::string::npos);
  ASSERT_EQ(Migrate(url, {"down", "1"}, &out), 0) << out;
  EXPECT_NE(out.find("reverted 2 session_lease"), std::string::npos) << out;
  EXPECT_EQ(QueryOne(url,
                     "SELECT count(*) FROM information_schema.columns WHERE column_name ="
                     " 'lease_until'"),
            "0");
  ASSERT_EQ(Migrate(url, {"down", "1"}, &out), 0) << out;
  EXPECT_NE(out.find("reverted 1 initial"), std::string::npos);
  EXPECT_EQ(QueryOne(url, tables), "schema_migrations");
  ASSERT_EQ(Migrate(url, {"up"}, &out), 0) << out;
  EXPECT_EQ(QueryOne(url, tables), before);
  EXPECT_EQ(Migrate(url, {"status"}, &out), 0);
  EXPECT_NE(out.find("current version: 6"), std::string::npos) << out;
}

TEST(MigrationsTest, PgTrgmIsInstalledAndStatusReportsPending) {
  const auto url = FreshDatabase("mig");
  std::string out;
  EXPECT_EQ(Migrate(url, {"status"}, &out), 1);
  EXPECT_NE(out.find("pending  1 initial"), std::string::npos) << out;
  ASSERT_EQ(Migrate(url, {"up"}), 0);
  EXPECT_EQ(QueryOne(url, "SELECT count(*) FROM pg_extension WHERE extname = 'pg_trgm'"), "1");
}

TEST(MigrationsTest, ConcurrentRunsAreSerialised) {
  const auto url = FreshDatabase("mig");
  std::vector<std::future<int>> runs;
  for (int i = 0; i < 4; ++i) {
    runs.push_back(std::async(std::launch::async, [&] { return Migrate(url, {"up"}); }));
  }
  for (auto& r : runs) EXPECT_EQ(r.get(), 0);
  EXPECT_EQ(QueryOne(url, "SELECT count(*) FROM schema_migrations"), "6");
  EXPECT_EQ(QueryOne(url, "SELECT count(*) FROM locations"), "1");
}

// An init container beside a database that is still starting: `--wait` keeps trying, and
// migrates once the database is there.
TEST(MigrationsTest, UpWaitsForADatabaseThatIsNotThereYet) {
  const auto existing = FreshDatabase("mig");
  const std::string name = "mig_later_" + std::to_string(::getpid());
  const std::string url = existing.substr(0, existing.rfind('/') + 1) + name;
  ChildProcess migrate({HOLOMUSH_BINARY, "migrate", "up", "--wait", "2m"}, {{"DATABASE_URL", url}});
  ASSERT_TRUE(migrate.WaitForLine("waiting up to 120 s for the database")) << migrate.Output();
  ExecSql(existing, "CREATE DATABASE " + name);
  EXPECT_EQ(migrate.Wait(std::chrono::seconds(60)), 0) << migrate.Output();
  EXPECT_NE(migrate.Output().find("applied 1 initial"), std::string::npos) << migrate.Output();
  EXPECT_EQ(QueryOne(url, "SELECT name FROM locations"), "The Nexus");
  std::string out;
  EXPECT_EQ(Migrate(url, {"up", "--wait", "soon"}, &out), 2);
  EXPECT_NE(out.find("--wait: want a duration such as 30s or 2m"), std::string::npos) << out;
}

TEST(MigrationsTest, DatabaseNewerThanBinaryIsRefused) {
  const auto url = FreshDatabase("mig");
  ASSERT_EQ(Migrate(url, {"up"}), 0);
  ExecSql(url, "INSERT INTO schema_migrations (version, name) VALUES (999, 'future')");
  std::string out;
  EXPECT_EQ(Migrate(url, {"up"}, &out), 1);
  EXPECT_NE(out.find("database schema version 999 is newer than this binary supports (6)"),
            std::string::npos)
      << out;
}

TEST(MigrationsTest, CoreWithoutAutoMigrateRefusesAnOldSchemaThenRunsOnceMigrated) {
  const auto url = FreshDatabase("mig");
  CoreProcess core(url, {}, {{"HOLOMUSH_DB_AUTO_MIGRATE", "false"}});
  EXPECT_FALSE(core.Start());
  EXPECT_EQ(core.process().Wait(), 1);
  EXPECT_TRUE(core.process().WaitForLine(
      "database schema is at version 0, this binary needs 6: run `holomush migrate up`"))
      << core.process().Output();
  ASSERT_EQ(Migrate(url, {"up"}), 0);
  ASSERT_TRUE(core.Start()) << core.process().Output();
  EXPECT_TRUE(core.WaitReady());
}

TEST(MigrationsTest, UsageErrorsExit2) {
  EXPECT_EQ(Migrate("postgresql://nobody@127.0.0.1:1/x", {"sideways"}), 2);
  EXPECT_EQ(Migrate("postgresql://nobody@127.0.0.1:1/x", {"down"}), 2);
  std::string out;
  EXPECT_EQ(Migrate("postgresql://nobody@127.0.0.1:1/x", {"up"}, &out), 1);
  EXPECT_NE(out.find("cannot connect to the database"), std::string::npos) << out;
}

}  // namespace
}  // namespace holomush::testing
