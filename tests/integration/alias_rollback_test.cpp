// A failed alias rollback, for real: core runs as a role whose DELETE right on
// player_aliases is revoked mid-test, so the undo of a refused alias cannot happen.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "db_helpers.hpp"
#include "support/core_harness.hpp"
#include "support/postgres.hpp"
#include "support/wait.hpp"

namespace holomush::testing {
namespace {

TEST(AliasRollbackTest, FailedRollbackLogsCriticalCountsAndLeavesTheRow) {
  auto& pg = SharedPostgres();
  const std::string admin_url = pg.Url("postgres");
  const std::string db = "rollback_" + std::to_string(::getpid());
  ExecSql(admin_url,
          "DO $$ BEGIN CREATE ROLE game_core LOGIN; EXCEPTION WHEN duplicate_object "
          "THEN NULL; END $$");
  ExecSql(admin_url, "CREATE DATABASE " + db + " OWNER game_core");
  const std::string core_url =
      "postgresql://game_core@127.0.0.1:" + std::to_string(pg.port()) + "/" + db;

  CoreProcess core(core_url);
  ASSERT_TRUE(core.Start()) << core.process().Output();
  ASSERT_TRUE(core.WaitReady()) << core.process().Output();
  EXPECT_EQ(core.Metric("holomush_alias_rollback_failures_total"), 0);

  PlayerClient ana(core.address());
  ASSERT_TRUE(ana.Enter("ana", "secret-ana", true));
  ana.Send("alias a=b");
  ASSERT_TRUE(ana.WaitFor("Alias 'a' set"));

  ExecSql(pg.Url(db), "REVOKE DELETE ON player_aliases FROM game_core");
  ana.Send("alias b=a");
  auto refusal = ana.WaitFor("Alias not set.");
  ASSERT_TRUE(refusal);
  EXPECT_NE(refusal->find("Alias 'b' would loop"), std::string::npos) << *refusal;

  auto line = core.process().WaitForLine("alias rollback failed - database-cache inconsistency");
  ASSERT_TRUE(line) << core.process().Output();
  auto log = nlohmann::json::parse(*line);
  EXPECT_EQ(log["level"], "error");
  EXPECT_EQ(log["severity"], "critical");
  EXPECT_EQ(log["component"], "core");
  EXPECT_EQ(log["alias"], "b");
  const std::string player_id =
      QueryOne(pg.Url(db), "SELECT id FROM players WHERE username = 'ana'");
  EXPECT_EQ(log["player_id"], player_id);
  EXPECT_FALSE(log["cache_error"].get<std::string>().empty());
  EXPECT_NE(log["rollback_error"].get<std::string>().find("permission denied"), std::string::npos);
  EXPECT_EQ(core.Metric("holomush_alias_rollback_failures_total"), 1);

  // The guide's description holds: in the database, not in the cache.
  EXPECT_EQ(QueryOne(pg.Url(db), "SELECT command FROM player_aliases WHERE alias = 'b'"), "a");
  ana.Send("b");
  EXPECT_TRUE(ana.WaitFor("Unknown command. Try 'help'."));

  // The guide's recovery, as an operator would run it, then a clean state.
  ExecSql(pg.Url(db),
          "DELETE FROM player_aliases WHERE player_id = '" + player_id + "' AND alias = 'b';");
  EXPECT_EQ(QueryOne(pg.Url(db), "SELECT count(*) FROM player_aliases WHERE alias = 'b'"), "0");
}

}  // namespace
}  // namespace holomush::testing

namespace holomush::testing {
namespace {

// Replacing a system alias with a loop, when the rollback (restoring the old value) fails
// too, on two replicas: neither keeps the old definition, and SQL run by hand, as the guide's
// recovery is, reaches both at once through the alias trigger.
TEST(AliasRollbackTest, FailedReplaceLeavesNoReplicaWithTheOldValueAndHandRunSqlReachesAll) {
  const std::string url = FreshDatabase("rollback2");
  CoreProcess first(url);
  ASSERT_TRUE(first.Start()) << first.process().Output();
  ASSERT_TRUE(first.WaitReady()) << first.process().Output();
  CoreProcess second(url);
  ASSERT_TRUE(second.Start()) << second.process().Output();
  ASSERT_TRUE(second.WaitReady()) << second.process().Output();
  std::string made;
  ASSERT_EQ(AdminCreate(url, {"ana"}, "secret-ana", &made), 0) << made;
  PlayerClient ana(first.address());
  PlayerClient bob(second.address());
  ASSERT_TRUE(ana.Enter("ana", "secret-ana", false));
  ASSERT_TRUE(bob.Enter("bob", "secret-bob", true));

  ana.Send("sysalias b=say old b");
  ASSERT_TRUE(ana.WaitFor("System alias 'b' set"));
  ana.Send("sysalias a=b");
  ASSERT_TRUE(ana.WaitFor("System alias 'a' set"));
  ana.Send("sysalias c=say hello c");
  ASSERT_TRUE(ana.WaitFor("System alias 'c' set"));
  ASSERT_TRUE(WaitUntil([&] {
    bob.Send("b");
    return bob.WaitFor("You say, \"old b\"", std::chrono::milliseconds(300)).has_value();
  }));

  // A fault at the database: restoring b's old value fails (the write of the new one passes).
  ExecSql(url,
          "CREATE FUNCTION refuse_restore() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
          " IF NEW.alias = 'b' AND NEW.command = 'say old b' THEN"
          " RAISE EXCEPTION 'restore refused by the test'; END IF; RETURN NEW; END $$;"
          " CREATE TRIGGER refuse_restore BEFORE UPDATE ON system_aliases"
          " FOR EACH ROW EXECUTE FUNCTION refuse_restore()");
  ana.Send("sysalias b=a");
  ASSERT_TRUE(ana.WaitFor("Alias not set."));
  ASSERT_TRUE(first.process().WaitForLine("alias rollback failed - database-cache inconsistency"));
  EXPECT_EQ(first.Metric("holomush_alias_rollback_failures_total"), 1);
  EXPECT_EQ(QueryOne(url, "SELECT command FROM system_aliases WHERE alias = 'b'"), "a");
  // Neither replica runs the old definition any more.
  ana.Send("b");
  EXPECT_TRUE(ana.WaitFor("Unknown command. Try 'help'."));
  EXPECT_TRUE(WaitUntil([&] {
    bob.Send("b");
    return bob.WaitFor("Unknown command. Try 'help'.", std::chrono::milliseconds(300)).has_value();
  }));

  // A replica that starts now loads the rows in the order they were last set, so the value the
  // cache refused is refused again (with a warning naming it) and the alias it clashed with is
  // kept, even when a hand-run UPDATE has moved that alias's row on disk.
  ExecSql(url, "UPDATE system_aliases SET command = command WHERE alias = 'a'");
  const std::string bob_seen = bob.last_event_id();
  second.Stop();
  ASSERT_TRUE(second.Start()) << second.process().Output();
  ASSERT_TRUE(second.WaitReady()) << second.process().Output();
  auto skipped = second.process().WaitForLine("alias in the database not loaded");
  ASSERT_TRUE(skipped) << second.process().Output();
  EXPECT_EQ(nlohmann::json::parse(*skipped)["alias"], "b") << *skipped;
  ASSERT_TRUE(bob.Open(bob_seen));

  // The guide's recovery by hand; and a hand-run DELETE of a healthy alias reaches both.
  ExecSql(url, "DELETE FROM system_aliases WHERE alias = 'b'");
  ExecSql(url, "DELETE FROM system_aliases WHERE alias = 'c'");
  for (PlayerClient* player : {&ana, &bob}) {
    EXPECT_TRUE(WaitUntil([&] {
      player->Send("c");
      return player->WaitFor("Unknown command. Try 'help'.", std::chrono::milliseconds(300))
          .has_value();
    }));
  }
  EXPECT_EQ(QueryOne(url, "SELECT count(*) FROM system_aliases WHERE alias IN ('b', 'c')"), "0");
}

}  // namespace
}  // namespace holomush::testing
