// Every command's effect and text, through a real core process and its gRPC API.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "db_helpers.hpp"
#include "support/core_harness.hpp"
#include "support/postgres.hpp"
#include "support/process.hpp"
#include "support/wait.hpp"

namespace holomush::testing {
namespace {

class GameTest : public ::testing::Test {
 protected:
  void SetUp() override {
    url_ = FreshDatabase("game");
    core_ = std::make_unique<CoreProcess>(url_);
    ASSERT_TRUE(core_->Start()) << core_->process().Output();
    ASSERT_TRUE(core_->WaitReady()) << core_->process().Output();
    ana_ = std::make_unique<PlayerClient>(core_->address());
    bob_ = std::make_unique<PlayerClient>(core_->address());
    // Bob registers first; registration order makes nobody an admin. Ana is made one.
    ASSERT_TRUE(bob_->Enter("bob", "secret-bob", true));
    std::string out;
    ASSERT_EQ(AdminCreate(url_, {"ana"}, "secret-ana", &out), 0) << out;
    ASSERT_TRUE(ana_->Enter("ana", "secret-ana", false));
    ASSERT_TRUE(bob_->WaitFor("Ana has connected."));
  }

  std::string url_;
  std::unique_ptr<CoreProcess> core_;
  std::unique_ptr<PlayerClient> ana_;
  std::unique_ptr<PlayerClient> bob_;
};

TEST_F(GameTest, AdminsAreMadeExplicitlyAndPlayersRegisterAsPlayers) {
  EXPECT_EQ(QueryOne(url_, "SELECT role FROM players WHERE username = 'ana'"), "admin");
  EXPECT_EQ(QueryOne(url_, "SELECT role FROM players WHERE username = 'bob'"), "player");
  EXPECT_EQ(QueryOne(url_, "SELECT name FROM characters WHERE lower(name) = 'ana'"), "Ana");
  EXPECT_EQ(QueryOne(url_, "SELECT left(password_hash, 10) FROM players WHERE username = 'ana'"),
            "$argon2id$");
}

TEST_F(GameTest, SayPoseSemiposeAndEmitReadAsSpecified) {
  ana_->Send("say Hello there");
  EXPECT_TRUE(ana_->WaitFor("You say, \"Hello there\""));
  EXPECT_TRUE(bob_->WaitFor("Ana says, \"Hello there\""));
  bob_->Send("\"Hi!");
  EXPECT_TRUE(ana_->WaitFor("Bob says, \"Hi!\""));
  ana_->Send(":waves.");
  EXPECT_TRUE(bob_->WaitFor("Ana waves."));
  ana_->Send(";'s hat glows.");
  EXPECT_TRUE(bob_->WaitFor("Ana's hat glows."));
  ana_->Send("pose smiles");
  EXPECT_TRUE(ana_->WaitFor("Ana smiles"));
  ana_->Send("emit The lights flicker.");
  EXPECT_TRUE(bob_->WaitFor("The lights flicker."));
  bob_->Send("emit Nope");
  EXPECT_TRUE(bob_->WaitFor("Only builders and admins can use emit."));
  EXPECT_EQ(QueryOne(url_, "SELECT count(*) FROM events WHERE type = 'say'"), "2");
  EXPECT_EQ(core_->Metric("holomush_events_total{type=\"say\"}"), 2);
  EXPECT_EQ(core_->Metric("holomush_sessions_active"), 2);
  // Commands count by canonical name, whichever form was typed (EventsStalled reads these).
  EXPECT_EQ(core_->Metric("holomush_commands_total{command=\"say\"}"), 2);
  EXPECT_EQ(core_->Metric("holomush_commands_total{command=\"pose\"}"), 2);
  EXPECT_EQ(core_->Metric("holomush_commands_total{command=\"semipose\"}"), 1);
  // Every event row went through one observed group commit, before anyone saw it.
  const auto rows = std::stod(QueryOne(url_, "SELECT count(*) FROM events"));
  EXPECT_EQ(core_->Metric("holomush_event_append_batch_size_sum"), rows);
  EXPECT_GE(core_->Metric("holomush_event_append_batch_size_count").value_or(0), 1);
}

TEST_F(GameTest, LookShowsLocationExitsAndPresent) {
  ana_->Send("look");
  auto look = ana_->WaitFor("The Nexus");
  ASSERT_TRUE(look);
  EXPECT_NE(look->find("Exits: none"), std::string::npos) << *look;
  EXPECT_NE(look->find("Present: Ana, Bob"), std::string::npos) << *look;
  ana_->Send("l bob");
  EXPECT_TRUE(ana_->WaitFor("You see Bob, here with you."));
  ana_->Send("look unicorn");
  EXPECT_TRUE(ana_->WaitFor("You don't see 'unicorn' here."));
}

TEST_F(GameTest, LookListsEveryExitByNameWithItsAliases) {
  ana_->Send("dig west;w;wst;westward to \"The Orchard\"");
  EXPECT_TRUE(ana_->WaitFor("Dug \"The Orchard\" through west."));
  ana_->Send("dig east to \"The Pond\"");
  EXPECT_TRUE(ana_->WaitFor("Dug \"The Pond\" through east."));
  ana_->Send("look");
  auto look = ana_->WaitFor("Present:");
  ASSERT_TRUE(look) << [&] {
    std::string all;
    for (const auto& m : ana_->Take()) all += m + "|";
    return all;
  }();
  EXPECT_NE(look->find("Exits: east, west (w, westward, wst)\n"), std::string::npos) << *look;
}

TEST_F(GameTest, DigThenMoveThroughAMisspeltExit) {
  ana_->Send("dig north;n to \"The Garden\" return south;s");
  EXPECT_TRUE(ana_->WaitFor("Dug \"The Garden\" through north. Return exit: south."));
  bob_->Send("nroth");
  auto arrived = bob_->WaitFor("The Garden");
  ASSERT_TRUE(arrived);
  EXPECT_NE(arrived->find("Exits: south (s)"), std::string::npos) << *arrived;
  EXPECT_TRUE(ana_->WaitFor("Bob leaves north."));
  ana_->Send("go N");
  EXPECT_TRUE(ana_->WaitFor("The Garden"));
  EXPECT_TRUE(bob_->WaitFor("Ana has arrived."));
  bob_->Send("move s");
  EXPECT_TRUE(bob_->WaitFor("The Nexus"));
  bob_->Send("go nowhere-at-all");
  EXPECT_TRUE(bob_->WaitFor("You can't go 'nowhere-at-all' from here."));
  EXPECT_EQ(QueryOne(url_, "SELECT count(*) FROM exits"), "2");
}

// `--exit-match-threshold` reaches the matcher: "northh" (pg_trgm similarity 0.63 to "north")
// goes north at the default 0.3 and is refused at 0.9. Two cores, one game.
TEST(ExitMatchSettingTest, AStricterThresholdRefusesATypoTheDefaultTakes) {
  const auto url = FreshDatabase("threshold");
  CoreProcess strict(url, {"--exit-match-threshold", "0.9"});
  ASSERT_TRUE(strict.Start()) << strict.process().Output();
  ASSERT_TRUE(strict.WaitReady()) << strict.process().Output();
  CoreProcess lenient(url);
  ASSERT_TRUE(lenient.Start()) << lenient.process().Output();
  ASSERT_TRUE(lenient.WaitReady()) << lenient.process().Output();
  std::string out;
  ASSERT_EQ(AdminCreate(url, {"ana"}, "secret-ana", &out), 0) << out;
  PlayerClient ana(strict.address());
  ASSERT_TRUE(ana.Enter("ana", "secret-ana", false));
  PlayerClient bob(lenient.address());
  ASSERT_TRUE(bob.Enter("bob", "secret-bob", true));
  ana.Send("dig north;n to \"The Garden\" return south;s");
  ASSERT_TRUE(ana.WaitFor("Dug \"The Garden\" through north. Return exit: south."));
  ana.Send("go northh");
  EXPECT_TRUE(ana.WaitFor("You can't go 'northh' from here."));
  // Bob's core hears of the new exit by NOTIFY, a moment after Ana's dig answered.
  EXPECT_TRUE(WaitUntil([&] {
    bob.Send("go northh");
    auto answer = bob.WaitFor("");
    return answer && answer->find("The Garden") != std::string::npos;
  }));
}

TEST_F(GameTest, DirectionShortFormsReachExitsWithoutAliases) {
  ana_->Send("dig northeast to \"The Tower\" return southwest");
  ASSERT_TRUE(ana_->WaitFor("Dug \"The Tower\" through northeast. Return exit: southwest."));
  ana_->Send("dig up to \"The Loft\"");
  ASSERT_TRUE(ana_->WaitFor("Dug \"The Loft\" through up."));
  bob_->Send("ne");
  auto tower = bob_->WaitFor("The Tower");
  ASSERT_TRUE(tower);
  EXPECT_NE(tower->find("Exits: southwest"), std::string::npos) << *tower;
  bob_->Send("go SW");
  EXPECT_TRUE(bob_->WaitFor("The Nexus"));
  bob_->Send("u");
  EXPECT_TRUE(bob_->WaitFor("The Loft"));
  // A short form with no such exit here is not a fuzzy guess at something else.
  bob_->Send("go d");
  EXPECT_TRUE(bob_->WaitFor("You can't go 'd' from here."));
}

TEST_F(GameTest, BuildingCommandsNeedABuilder) {
  bob_->Send("dig up to \"Attic\"");
  EXPECT_TRUE(bob_->WaitFor("Only builders and admins can use dig."));
  ana_->Send("describe here=Soft light everywhere.");
  EXPECT_TRUE(ana_->WaitFor("Description set."));
  bob_->Send("look");
  EXPECT_TRUE(bob_->WaitFor("Soft light everywhere."));
  ana_->Send("dig east to \"Hall\"");
  ASSERT_TRUE(ana_->WaitFor("Dug \"Hall\""));
  ana_->Send("east");
  ASSERT_TRUE(ana_->WaitFor("Hall"));
  ana_->Send("link west to The Nexus");
  EXPECT_TRUE(ana_->WaitFor("Linked west to The Nexus."));
  ana_->Send("link up to Nowhere");
  EXPECT_TRUE(ana_->WaitFor("There is no location called 'Nowhere'."));
}

// Core keeps locations and exits in memory; a change made outside it (SQL by hand, another
// replica) reaches it through the world trigger's NOTIFY, so `look` and moves follow.
TEST_F(GameTest, AWorldChangedByHandInSqlIsWhatLookAndMovesFollow) {
  const auto look_shows = [&](const std::string& needle) {
    return WaitUntil([&] {
      ana_->Send("look");
      auto look = ana_->WaitFor("Present:");
      return look && look->find(needle) != std::string::npos;
    });
  };
  ASSERT_TRUE(look_shows("Exits: none"));  // the Nexus is in core's cache now
  ExecSql(url_, "UPDATE locations SET description = 'Repainted by hand.' WHERE name = 'The Nexus'");
  EXPECT_TRUE(look_shows("Repainted by hand."));
  ExecSql(url_,
          "INSERT INTO locations (id, name) VALUES ('00000000-0000-0000-0000-00000000c0de', "
          "'The Cellar');"
          "INSERT INTO exits (id, from_location_id, to_location_id, name) VALUES "
          "('00000000-0000-0000-0000-0000000e0001', '00000000-0000-0000-0000-000000000001', "
          "'00000000-0000-0000-0000-00000000c0de', 'down'), "
          "(DEFAULT, '00000000-0000-0000-0000-00000000c0de', "
          "'00000000-0000-0000-0000-000000000001', 'up');");
  EXPECT_TRUE(look_shows("Exits: down\n"));
  ExecSql(url_,
          "INSERT INTO exit_aliases (exit_id, alias) VALUES "
          "('00000000-0000-0000-0000-0000000e0001', 'stairs')");
  EXPECT_TRUE(look_shows("Exits: down (stairs)"));
  ana_->Send("stairs");
  EXPECT_TRUE(ana_->WaitFor("The Cellar"));
  ExecSql(url_, "UPDATE locations SET name = 'The Wine Cellar' WHERE name = 'The Cellar'");
  EXPECT_TRUE(look_shows("The Wine Cellar"));
  // TRUNCATE names no row: every place is forgotten.
  ana_->Send("go up");
  ASSERT_TRUE(ana_->WaitFor("The Nexus"));
  ExecSql(url_, "TRUNCATE exit_aliases");
  EXPECT_TRUE(look_shows("Exits: down\n"));
}

// What `look` costs PostgreSQL once the place and who is present are kept: nothing at all
// while nobody comes or goes (pg_stat_statements, which the guide requires). A login there
// is seen by the very next look, with one question for who is present.
TEST_F(GameTest, LookAsksNothingUntilSomeoneComesOrGoes) {
  ana_->Send("look");
  ASSERT_TRUE(ana_->WaitFor("Present: Ana, Bob"));
  ExecSql(url_, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
  ExecSql(url_, "SELECT pg_stat_statements_reset()");
  for (int i = 0; i < 10; ++i) {
    ana_->Send("look");
    ASSERT_TRUE(ana_->WaitFor("Present: Ana, Bob"));
  }
  const auto calls = [&](const std::string& pattern) {
    return QueryOne(url_,
                    "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements WHERE dbid = (SELECT "
                    "oid FROM pg_database WHERE datname = current_database()) AND query LIKE '" +
                        pattern + "'");
  };
  const std::string present = "%FROM characters c WHERE c.location_id = $1%";
  EXPECT_EQ(calls(present), "0");
  EXPECT_EQ(calls("%FROM locations%"), "0");
  EXPECT_EQ(calls("%FROM exits%"), "0");
  PlayerClient cyra(core_->address());
  ASSERT_TRUE(cyra.Enter("cyra", "secret-cyra", true));
  EXPECT_EQ(ana_->PresentAfter("look"), "Present: Ana, Bob, Cyra");
  cyra.Send("quit");
  ASSERT_TRUE(ana_->WaitFor("Cyra has disconnected."));
  EXPECT_EQ(ana_->PresentAfter("look"), "Present: Ana, Bob");
}

// Every statement core runs is prepared once per pooled connection. PostgreSQL's own log
// says so: with every parse, bind and execute logged for this database, each server process
// (one pooled connection) parses `find_character` once and then only executes it, page after
// page.
TEST(PreparedStatementTest, EachConnectionParsesAStatementOnceAndThenOnlyExecutesIt) {
  const std::string url = FreshDatabase("prepared");
  ExecSql(url, "ALTER DATABASE " + QueryOne(url, "SELECT current_database()") +
                   " SET log_min_duration_statement = 0");
  CoreProcess core(url);
  ASSERT_TRUE(core.Start()) << core.process().Output();
  ASSERT_TRUE(core.WaitReady()) << core.process().Output();
  PlayerClient ana(core.address());
  ASSERT_TRUE(ana.Enter("ana", "secret-ana", true));
  for (int i = 0; i < 20; ++i) {
    ana.Send("page ana=note " + std::to_string(i));
    ASSERT_TRUE(ana.WaitFor("You page Ana: note " + std::to_string(i)));
  }
  // Lines read "<time> [<pid>] LOG:  duration: <ms> ms  parse|execute find_character: ...".
  std::map<std::string, int> parses;
  int executes = 0;
  std::ifstream log(SharedPostgres().data_dir() + "/postgresql.log");
  for (std::string line; std::getline(log, line);) {
    const auto open = line.find(" [");
    const auto close = line.find("] ", open == std::string::npos ? 0 : open);
    if (open == std::string::npos || close == std::string::npos) continue;
    if (line.find("  parse find_character: ") != std::string::npos) {
      ++parses[line.substr(open + 2, close - open - 2)];
    }
    if (line.find("  execute find_character: ") != std::string::npos) ++executes;
  }
  EXPECT_GE(executes, 20);
  ASSERT_FALSE(parses.empty());
  for (const auto& [pid, n] : parses) EXPECT_EQ(n, 1) << "server process " << pid;
}

TEST_F(GameTest, PageReachesOnlyItsTarget) {
  ana_->Send("page bob=psst");
  EXPECT_TRUE(ana_->WaitFor("You page Bob: psst"));
  EXPECT_TRUE(bob_->WaitFor("Ana pages: psst"));
  ana_->Send("page nobody=hi");
  EXPECT_TRUE(ana_->WaitFor("There is no character called 'nobody'."));
  ana_->Send("page bob");
  EXPECT_TRUE(ana_->WaitFor("Usage: page <name>=<message>"));
}

TEST_F(GameTest, AliasesExpandKeepArgumentsAndRejectCycles) {
  ana_->Send("alias gr=say Greetings");
  EXPECT_TRUE(ana_->WaitFor("Alias 'gr' set: say Greetings"));
  ana_->Send("gr friends");
  EXPECT_TRUE(bob_->WaitFor("Ana says, \"Greetings friends\""));
  ana_->Send("alias a=b");
  ASSERT_TRUE(ana_->WaitFor("Alias 'a' set"));
  ana_->Send("alias b=a");
  EXPECT_TRUE(ana_->WaitFor("Alias not set."));
  EXPECT_EQ(QueryOne(url_, "SELECT count(*) FROM player_aliases WHERE alias = 'b'"), "0");
  ana_->Send("alias look=say x");
  EXPECT_TRUE(ana_->WaitFor("'look' is a command; an alias cannot replace it."));
  ana_->Send("aliases");
  auto list = ana_->WaitFor("Your aliases:");
  ASSERT_TRUE(list);
  EXPECT_NE(list->find("gr = say Greetings"), std::string::npos);
  ana_->Send("sysalias wave=pose waves");
  EXPECT_TRUE(ana_->WaitFor("System alias 'wave' set: pose waves"));
  bob_->Send("wave hello");
  EXPECT_TRUE(ana_->WaitFor("Bob waves hello"));
  bob_->Send("sysalias x=look");
  EXPECT_TRUE(bob_->WaitFor("Only admins can use sysalias."));
  bob_->Send("sysaliases");
  auto system = bob_->WaitFor("System aliases:");
  ASSERT_TRUE(system);
  EXPECT_EQ(*system, "System aliases:\n  wave = pose waves");
  bob_->Send("sysunalias wave");
  EXPECT_TRUE(bob_->WaitFor("Only admins can use sysunalias."));
  ana_->Send("sysunalias wave");
  EXPECT_TRUE(ana_->WaitFor("System alias 'wave' removed."));
  ana_->Send("sysunalias wave");
  EXPECT_TRUE(ana_->WaitFor("There is no system alias 'wave'."));
  bob_->Send("sysaliases");
  EXPECT_TRUE(bob_->WaitFor("There are no system aliases."));
  bob_->Send("wave hello");
  EXPECT_TRUE(bob_->WaitFor("Unknown command. Try 'help'."));
  ana_->Send("unalias gr");
  EXPECT_TRUE(ana_->WaitFor("Alias 'gr' removed."));
  ana_->Send("gr");
  EXPECT_TRUE(ana_->WaitFor("Unknown command. Try 'help'."));
}

// TRUNCATE names no row: its trigger asks every replica to reload all aliases.
TEST_F(GameTest, TruncatingAnAliasTableReloadsEveryAlias) {
  ana_->Send("alias gr=say Greetings");
  ASSERT_TRUE(ana_->WaitFor("Alias 'gr' set: say Greetings"));
  ana_->Send("sysalias wave=pose waves");
  ASSERT_TRUE(ana_->WaitFor("System alias 'wave' set: pose waves"));
  ExecSql(url_, "TRUNCATE system_aliases");
  EXPECT_TRUE(WaitUntil([&] {
    bob_->Send("wave");
    auto answer = bob_->WaitFor("");
    return answer && *answer == "Unknown command. Try 'help'.";
  }));
  ana_->Send("gr all");  // the other table's aliases are reloaded, not lost
  EXPECT_TRUE(bob_->WaitFor("Ana says, \"Greetings all\""));
}

// `who` is answered from a shared reply up to a second old, but a player who connects or
// quits on this core is seen by the very next `who`.
TEST_F(GameTest, WhoSeesAPlayerWhoJustConnectedOrQuit) {
  ana_->Send("who");
  ASSERT_TRUE(ana_->WaitFor("2 characters connected."));
  PlayerClient carl(core_->address());
  ASSERT_TRUE(carl.Enter("carl", "secret-carl", true));
  ana_->Send("who");
  auto who = ana_->WaitFor("3 characters connected.");
  ASSERT_TRUE(who);
  EXPECT_NE(who->find("Carl"), std::string::npos) << *who;
  carl.Send("quit");
  ASSERT_TRUE(ana_->WaitFor("Carl has disconnected."));
  ana_->Send("who");
  EXPECT_TRUE(ana_->WaitFor("2 characters connected."));
}

TEST_F(GameTest, WhoHelpUnknownAndQuit) {
  bob_->Send("who");
  auto who = bob_->WaitFor("2 characters connected.");
  ASSERT_TRUE(who);
  // Columns: names padded to the longest, idle times right-aligned under "Idle".
  const size_t table = who->find("Name  Idle\n");
  ASSERT_NE(table, std::string::npos) << *who;
  std::istringstream lines(who->substr(table));
  std::string header, first, second;
  std::getline(lines, header);
  std::getline(lines, first);
  std::getline(lines, second);
  EXPECT_EQ(first.rfind("Ana  ", 0), 0u) << *who;
  EXPECT_EQ(second.rfind("Bob  ", 0), 0u) << *who;
  EXPECT_EQ(first.size(), header.size()) << *who;
  EXPECT_EQ(second.size(), header.size()) << *who;
  bob_->Send("help");
  EXPECT_TRUE(bob_->WaitFor("Commands:"));
  bob_->Send("help page");
  EXPECT_TRUE(bob_->WaitFor("page <name>=<message>"));
  bob_->Send("xyzzy");
  EXPECT_TRUE(bob_->WaitFor("Unknown command. Try 'help'."));
  bob_->Send("quit");
  ASSERT_TRUE(WaitUntil([&] { return bob_->closed_reason().has_value(); }));
  EXPECT_EQ(*bob_->closed_reason(), "Goodbye.");
  EXPECT_TRUE(ana_->WaitFor("Bob has disconnected."));
}

TEST_F(GameTest, AdminWallAndBoot) {
  ana_->Send("wall Server maintenance soon");
  EXPECT_TRUE(bob_->WaitFor("Announcement from Ana: Server maintenance soon"));
  bob_->Send("boot ana");
  EXPECT_TRUE(bob_->WaitFor("Only admins can use boot."));
  ana_->Send("boot bob");
  EXPECT_TRUE(ana_->WaitFor("You booted Bob."));
  ASSERT_TRUE(WaitUntil([&] { return bob_->closed_reason().has_value(); }));
  EXPECT_EQ(*bob_->closed_reason(), "You have been booted.");
}

// An admin's `shutdown`: everyone hears it, core exits 0, the streams end, and the sessions
// stay in the database, so players resume once core is back (the gateway does it for them).
TEST_F(GameTest, ShutdownStopsCoreCleanlyAndSessionsResumeAfter) {
  bob_->Send("shutdown");
  EXPECT_TRUE(bob_->WaitFor("Only admins can use shutdown."));
  ana_->Send("shutdown");
  EXPECT_TRUE(ana_->WaitFor("Shutting down."));
  EXPECT_TRUE(bob_->WaitFor("The game is shutting down."));
  EXPECT_EQ(core_->process().Wait(std::chrono::seconds(30)), 0) << core_->process().Output();
  ASSERT_TRUE(WaitUntil([&] { return bob_->closed_reason().has_value(); }));
  EXPECT_EQ(bob_->closed_reason()->rfind("stream ended: ", 0), 0u) << *bob_->closed_reason();
  EXPECT_EQ(QueryOne(url_, "SELECT count(*) FROM sessions WHERE ended_at IS NULL"), "2");
  EXPECT_NE(core_->process().Output().find("shutdown requested by admin"), std::string::npos);
  ASSERT_TRUE(core_->Start()) << core_->process().Output();
  ASSERT_TRUE(core_->WaitReady());
  const std::string seen = bob_->last_event_id();
  ASSERT_TRUE(bob_->Open(seen));
  bob_->Send("say still here");
  EXPECT_TRUE(bob_->WaitFor("You say, \"still here\""));
}

TEST_F(GameTest, AdminCreateIsIdempotentAndPromotesOnlyWhenAsked) {
  std::string out;
  // Again for Ana: confirmed, password untouched.
  EXPECT_EQ(AdminCreate(url_, {"ana"}, "another-password", &out), 0) << out;
  EXPECT_NE(out.find("ana is already an admin"), std::string::npos) << out;
  PlayerClient carol(core_->address());
  EXPECT_TRUE(carol.Login("ana", "secret-ana").message().empty());
  // Bob is a player: refused without --promote, promoted with it.
  EXPECT_EQ(AdminCreate(url_, {"bob"}, "", &out), 1) << out;
  EXPECT_NE(out.find("account bob exists and is a player; add --promote"), std::string::npos)
      << out;
  EXPECT_EQ(QueryOne(url_, "SELECT role FROM players WHERE username = 'bob'"), "player");
  EXPECT_EQ(AdminCreate(url_, {"bob", "--promote"}, "", &out), 0) << out;
  EXPECT_EQ(QueryOne(url_, "SELECT role FROM players WHERE username = 'bob'"), "admin");
  // A new admin account follows the account rules.
  EXPECT_EQ(AdminCreate(url_, {"dave"}, "abc", &out), 2) << out;
  EXPECT_NE(out.find("Passwords must be 6 to 128 characters long."), std::string::npos) << out;
  EXPECT_EQ(AdminCreate(url_, {"dave"}, "secret-dave", &out), 0) << out;
  EXPECT_EQ(QueryOne(url_, "SELECT role FROM players WHERE username = 'dave'"), "admin");
}

// The two other ways `admin create` takes a password: the first line of a file (a mounted
// Secret) and a line on stdin; each logs in with exactly that password.
TEST_F(GameTest, AdminCreateTakesThePasswordFromAFileOrStdin) {
  const auto file = std::filesystem::temp_directory_path() /
                    ("holomush-admin-password-" + std::to_string(::getpid()));
  std::ofstream(file) << "secret-erin\nsecond line ignored\n";
  std::string out;
  EXPECT_EQ(AdminCreate(url_, {"erin", "--password-file", file.string()}, "", &out), 0) << out;
  std::filesystem::remove(file);
  ChildProcess piped(
      {"/bin/sh", "-c", "printf 'secret-fay\\n' | \"$0\" admin create fay", HOLOMUSH_BINARY},
      {{"DATABASE_URL", url_}});
  EXPECT_EQ(piped.Wait(std::chrono::seconds(60)), 0) << piped.Output();
  PlayerClient client(core_->address());
  EXPECT_TRUE(client.Login("erin", "secret-erin").message().empty());
  EXPECT_TRUE(client.Login("fay", "secret-fay").message().empty());
  EXPECT_EQ(QueryOne(url_,
                     "SELECT string_agg(role, ',') FROM players"
                     " WHERE username IN ('erin', 'fay')"),
            "admin,admin");
  // A file that cannot be read is one clear error, and nothing is made.
  EXPECT_EQ(AdminCreate(url_, {"gus", "--password-file", "/nonexistent/pw"}, "", &out), 2) << out;
  EXPECT_NE(out.find("cannot read --password-file /nonexistent/pw"), std::string::npos) << out;
  EXPECT_EQ(QueryOne(url_, "SELECT count(*) FROM players WHERE username = 'gus'"), "0");
}

// What would let someone take over a session or an account never reaches the log, and the
// database keeps only hashes of the tokens.
TEST_F(GameTest, SecretsStayOutOfTheLogAndTokensAreStoredHashed) {
  PlayerClient carol(core_->address());
  EXPECT_EQ(carol.Login("ana", "wrong-secret").message(), "Invalid username or password.");
  const std::string token = ana_->session().resume_token();
  ASSERT_EQ(token.size(), 64u);
  const std::string id = ana_->session().session_id();
  EXPECT_EQ(QueryOne(url_, "SELECT resume_token_hash = encode(sha256(convert_to('" + token +
                               "', 'UTF8')), 'hex') FROM sessions WHERE id = '" + id + "'"),
            "t");
  EXPECT_EQ(
      QueryOne(url_, "SELECT count(*) FROM sessions WHERE resume_token_hash = '" + token + "'"),
      "0");
  const std::string log = core_->process().Output();
  ASSERT_NE(log.find("grpc listening"), std::string::npos) << "no log captured";
  for (const std::string& secret :
       {token, bob_->session().resume_token(), std::string("secret-ana"), std::string("secret-bob"),
        std::string("wrong-secret")}) {
    EXPECT_EQ(log.find(secret), std::string::npos) << secret << " is in the log:\n" << log;
  }
}

TEST_F(GameTest, AccountRules) {
  PlayerClient carol(core_->address());
  EXPECT_EQ(carol.Create("ana", "whatever1").message(), "That name is already taken.");
  EXPECT_EQ(carol.Create("x", "whatever1").message(),
            "Usernames are 3 to 30 letters, digits or underscores, starting with a letter.");
  EXPECT_EQ(carol.Create("carol9", "whatever1").message(),
            "Your first character takes your username, so it must be letters only (2 to 32).");
  EXPECT_EQ(carol.Create("carol", "abc").message(), "Passwords must be 6 to 128 characters long.");
  EXPECT_TRUE(carol.Login("ANA", "secret-ana").message().empty());
  EXPECT_EQ(carol.Login("nobody", "secret").message(), "Invalid username or password.");
}

TEST_F(GameTest, FailedLoginsBackOffPerAddressAndNeverLockTheOwnerOut) {
  auto login = [&](const std::string& password, const std::string& address) {
    pb::Credentials credentials;
    credentials.set_username("bob");
    credentials.set_password(password);
    credentials.set_client_address(address);
    pb::LoginReply reply;
    grpc::ClientContext ctx;
    const auto status = ana_->stub().Login(&ctx, credentials, &reply);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return reply;
  };
  const std::string stranger = "203.0.113.9";
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(login("wrong-password", stranger).message(), "Invalid username or password.");
  }
  EXPECT_EQ(
      QueryOne(url_, "SELECT failures FROM login_failures WHERE address = '" + stranger + "'"),
      "4");
  // From there even the right password waits (and costs no hashing)...
  const auto waited = login("secret-bob", stranger);
  EXPECT_TRUE(waited.login_token().empty());
  EXPECT_EQ(waited.message(), "Too many failed logins from your address; try again in 2 seconds.");
  // ...while the owner, elsewhere, logs in at once.
  const auto owner = login("secret-bob", "198.51.100.7");
  EXPECT_FALSE(owner.login_token().empty()) << owner.message();
  // The wait passes; a success forgets the failures from that address.
  EXPECT_TRUE(WaitUntil([&] { return !login("secret-bob", stranger).login_token().empty(); },
                        std::chrono::seconds(10)));
  EXPECT_EQ(QueryOne(url_, "SELECT count(*) FROM login_failures"), "0");
  EXPECT_EQ(QueryOne(url_,
                     "SELECT count(*) FROM information_schema.columns"
                     " WHERE table_name = 'players' AND column_name = 'locked_until'"),
            "0");
}

// Many failures in a row wait at most 15 minutes; rows a day old are forgotten by the next
// failure anyone records.
TEST_F(GameTest, LoginBackoffIsCappedAtFifteenMinutesAndDayOldFailuresAreForgotten) {
  const std::string bob_id = QueryOne(url_, "SELECT id FROM players WHERE username = 'bob'");
  ExecSql(url_,
          "INSERT INTO login_failures (player_id, address, failures, retry_at, last_failure_at)"
          " VALUES ('" +
              bob_id +
              "', '192.0.2.1', 5, now() - interval '2 days',"
              " now() - interval '2 days'), ('" +
              bob_id + "', '192.0.2.2', 40, now(), now())");
  pb::Credentials credentials;
  credentials.set_username("bob");
  credentials.set_password("wrong-password");
  credentials.set_client_address("192.0.2.2");
  pb::LoginReply reply;
  grpc::ClientContext ctx;
  // The 40th failure's wait is over: this is the 41st, and its wait is the cap.
  ASSERT_TRUE(ana_->stub().Login(&ctx, credentials, &reply).ok());
  EXPECT_EQ(reply.message(), "Invalid username or password.");
  EXPECT_EQ(QueryOne(url_, "SELECT count(*) FROM login_failures WHERE address = '192.0.2.1'"), "0");
  EXPECT_EQ(QueryOne(url_,
                     "SELECT failures || ' ' || extract(epoch FROM retry_at - last_failure_at)::int"
                     " FROM login_failures WHERE address = '192.0.2.2'"),
            "41 900");
}

TEST_F(GameTest, HostileStreamInputIsRefusedWithoutHarm) {
  ana_->Send(std::string(1 << 20, 'x'));
  EXPECT_TRUE(ana_->WaitFor("That line is too long (8192 characters at most)."));
  ana_->Send("say \xff\xfe bytes");
  EXPECT_TRUE(bob_->WaitFor("Ana says, \"\xef\xbf\xbd\xef\xbf\xbd bytes\""));
  // A NUL (which PostgreSQL cannot store) is dropped, and nobody's event is lost with it.
  ana_->Send(std::string("say nul\0here", 12));
  bob_->Send("say right after");
  EXPECT_TRUE(bob_->WaitFor("Ana says, \"nulhere\""));
  EXPECT_TRUE(ana_->WaitFor("Bob says, \"right after\""));
  // A command on a handle that was never opened is refused with a status, not a crash, and
  // a forged resume token opens nothing; the stream itself stays up for other handles.
  grpc::ClientContext ctx;
  auto stream = ana_->stub().Gateway(&ctx);
  pb::GatewayUp up;
  auto* command = up.add_frames();
  command->set_handle(7);
  command->mutable_command()->set_line("look");
  auto* forged = up.add_frames();
  forged->set_handle(8);
  forged->mutable_open()->set_session_id(ana_->session().session_id());
  forged->mutable_open()->set_resume_token("forged");
  ASSERT_TRUE(stream->Write(up));
  std::map<uint64_t, int> refused;
  pb::GatewayDown down;
  while (refused.size() < 2 && stream->Read(&down)) {
    for (const auto& frame : down.frames()) {
      ASSERT_TRUE(frame.message().has_refused());
      for (const auto handle : frame.handles()) refused[handle] = frame.message().refused().code();
    }
  }
  EXPECT_EQ(refused[7], grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(refused[8], grpc::StatusCode::NOT_FOUND);
  stream->WritesDone();
  while (stream->Read(&down)) {
  }
  EXPECT_TRUE(stream->Finish().ok());
  ana_->Send("say still here");
  EXPECT_TRUE(bob_->WaitFor("Ana says, \"still here\""));
}

}  // namespace
}  // namespace holomush::testing
