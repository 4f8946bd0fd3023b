// Sessions and events across disconnects, core restarts, a second core and a database restart.
#include <gtest/gtest.h>
#include <signal.h>

#include <iostream>
#include <pqxx/pqxx>

#include "db_helpers.hpp"
#include "support/core_harness.hpp"
#include "support/net.hpp"
#include "support/postgres.hpp"
#include "support/wait.hpp"

namespace holomush::testing {
namespace {

class ResilienceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    url_ = FreshDatabase("res");
    core_ = std::make_unique<CoreProcess>(url_);
    ASSERT_TRUE(core_->Start()) << core_->process().Output();
    ASSERT_TRUE(core_->WaitReady()) << core_->process().Output();
  }
  std::string url_;
  std::unique_ptr<CoreProcess> core_;
};

// A second core process on the same database: Ana (an admin) plays on the first, Bob on the
// second.
class TwoCoresTest : public ResilienceTest {
 protected:
  void SetUp() override {
    ResilienceTest::SetUp();
    second_ = std::make_unique<CoreProcess>(url_);
    ASSERT_TRUE(second_->Start()) << second_->process().Output();
    ASSERT_TRUE(second_->WaitReady());
    ana_ = std::make_unique<PlayerClient>(core_->address());
    bob_ = std::make_unique<PlayerClient>(second_->address());
    std::string made;
    ASSERT_EQ(AdminCreate(url_, {"ana"}, "secret-ana", &made), 0) << made;
    ASSERT_TRUE(ana_->Enter("ana", "secret-ana", false));
    ASSERT_TRUE(bob_->Enter("bob", "secret-bob", true));
  }
  std::unique_ptr<CoreProcess> second_;
  std::unique_ptr<PlayerClient> ana_;
  std::unique_ptr<PlayerClient> bob_;
};

// The game database refusing new connections, with every core's listener connection ended:
// the listeners cannot come back until End(). `sql` is a connection opened before, for the
// test's own statements meanwhile.
class ListenerOutage {
 public:
  explicit ListenerOutage(const std::string& url)
      : db_(QueryOne(url, "SELECT current_database()")),
        server_(SharedPostgres().Url("postgres")),
        admin_(server_),
        game_(url),
        sql(game_) {}
  // Returns how many listener connections were ended.
  int Begin() {
    // A database refuses to disallow its own connections: that is asked from another one.
    admin_.exec("ALTER DATABASE " + db_ + " ALLOW_CONNECTIONS false");
    return sql
        .exec1(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE application_name = 'holomush-core-listener' AND datname = current_database()")
            [0]
        .as<int>();
  }
  void End() { admin_.exec("ALTER DATABASE " + db_ + " ALLOW_CONNECTIONS true"); }

 private:
  std::string db_;
  pqxx::connection server_;
  pqxx::nontransaction admin_;
  pqxx::connection game_;

 public:
  pqxx::nontransaction sql;
};

TEST_F(ResilienceTest, ResumeReplaysExactlyTheMissedEventsInOrder) {
  PlayerClient ana(core_->address());
  PlayerClient bob(core_->address());
  ASSERT_TRUE(ana.Enter("ana", "secret-ana", true));
  ASSERT_TRUE(bob.Enter("bob", "secret-bob", true));
  ana.Send("say before");
  ASSERT_TRUE(bob.WaitFor("Ana says, \"before\""));
  const std::string seen = bob.last_event_id();
  bob.Drop();
  for (int i = 1; i <= 5; ++i) ana.Send("say missed " + std::to_string(i));
  ASSERT_TRUE(ana.WaitFor("You say, \"missed 5\""));
  bob.Take();
  ASSERT_TRUE(bob.Open(seen));
  for (int i = 1; i <= 5; ++i) {
    ASSERT_TRUE(bob.WaitFor("Ana says, \"missed " + std::to_string(i) + "\"")) << i;
  }
  ana.Send("say live");
  ASSERT_TRUE(bob.WaitFor("Ana says, \"live\""));
  for (const auto& t : bob.Take()) {
    EXPECT_EQ(t.find("missed"), std::string::npos) << "delivered twice: " << t;
    EXPECT_EQ(t.find("before"), std::string::npos) << "replayed what was seen: " << t;
  }
}

TEST_F(TwoCoresTest, TwoCoreProcessesAreOneGame) {
  PlayerClient& ana = *ana_;
  PlayerClient& bob = *bob_;
  ana.Send("say across replicas");
  EXPECT_TRUE(bob.WaitFor("Ana says, \"across replicas\""));
  bob.Send(":nods.");
  EXPECT_TRUE(ana.WaitFor("Bob nods."));
  // An alias made on one replica works on the other (NOTIFY keeps caches in step).
  ana.Send("sysalias hi=say hi all");
  ASSERT_TRUE(ana.WaitFor("System alias 'hi' set"));
  ASSERT_TRUE(WaitUntil([&] {
    bob.Send("hi");
    return bob.WaitFor("You say, \"hi all\"", std::chrono::milliseconds(300)).has_value();
  }));
}

// Each core keeps who is present, and each hears the other's arrivals, departures and quits:
// Ana's core has the Garden and the Nexus kept when Bob, on the other core, walks from one
// to the other, and her next look in either is right at once.
TEST_F(TwoCoresTest, EveryReplicaSeesWhoArrivesAndLeavesOnTheOther) {
  PlayerClient& ana = *ana_;
  PlayerClient& bob = *bob_;
  ana.Send("dig north;n to \"The Garden\" return south;s");
  ASSERT_TRUE(ana.WaitFor("Dug"));
  ASSERT_EQ(ana.PresentAfter("n"), "Present: Ana");
  ASSERT_EQ(ana.PresentAfter("s"), "Present: Ana, Bob");
  // Bob's core learns of the exit by NOTIFY, a moment after Ana's dig answered.
  ASSERT_TRUE(WaitUntil([&] {
    bob.Send("n");
    return bob.WaitFor("The Garden", std::chrono::milliseconds(300)).has_value();
  }));
  ASSERT_TRUE(ana.WaitFor("Bob leaves north."));
  EXPECT_EQ(ana.PresentAfter("look"), "Present: Ana");
  EXPECT_EQ(ana.PresentAfter("n"), "Present: Ana, Bob");
  bob.Send("quit");
  ASSERT_TRUE(ana.WaitFor("Bob has disconnected."));
  EXPECT_EQ(ana.PresentAfter("look"), "Present: Ana");
}

// Twenty speakers on one core send 30 says each, all at once: the event writer commits them
// in group batches whose ids span several NOTIFY payloads (one holds ~296 ids). A listener on
// the other core must deliver all 600, each once, in the order of their ids.
TEST_F(ResilienceTest, SixHundredConcurrentEventsReachTheOtherCoreOnceEachInOrder) {
  constexpr int kSpeakers = 20;
  constexpr int kSaysEach = 30;  // under the per-session burst and pending limits
  CoreProcess second(url_);
  ASSERT_TRUE(second.Start()) << second.process().Output();
  ASSERT_TRUE(second.WaitReady());
  PlayerClient watcher(core_->address());
  ASSERT_TRUE(watcher.Enter("watcher", "secret-watcher", true));
  std::vector<std::unique_ptr<PlayerClient>> speakers;
  for (int i = 0; i < kSpeakers; ++i) {
    speakers.push_back(std::make_unique<PlayerClient>(second.address()));
    const std::string name = "speaker" + std::string(1, static_cast<char>('a' + i));
    ASSERT_TRUE(speakers.back()->Enter(name, "secret-" + name, true)) << name;
  }
  watcher.Take();
  for (int n = 0; n < kSaysEach; ++n) {
    for (auto& speaker : speakers) speaker->Send("say m" + std::to_string(n));
  }
  for (auto& speaker : speakers) {
    ASSERT_TRUE(speaker->WaitFor("You say, \"m" + std::to_string(kSaysEach - 1) + "\"",
                                 std::chrono::seconds(60)));
  }
  std::vector<std::string> committed;
  {
    pqxx::connection conn(url_);
    pqxx::nontransaction txn(conn);
    for (const auto& row : txn.exec("SELECT actor_name || ' says, \"' || (payload->>'message') ||"
                                    " '\"' FROM events WHERE type = 'say' ORDER BY id")) {
      committed.push_back(row[0].as<std::string>());
    }
  }
  ASSERT_EQ(committed.size(), static_cast<size_t>(kSpeakers * kSaysEach));
  // Collects the watcher's says until `stop` arrives; false on timeout.
  std::vector<std::string> heard;
  auto collect_until = [&](const std::string& stop) {
    bool seen = false;
    return WaitUntil(
        [&] {
          for (auto& text : watcher.Take()) {
            if (text.find(stop) != std::string::npos) seen = true;
            if (text.find(" says, \"m") != std::string::npos) heard.push_back(text);
          }
          return seen;
        },
        std::chrono::seconds(60));
  };
  ASSERT_TRUE(collect_until(committed.back())) << heard.size() << " of " << committed.size();
  // Anything delivered twice would come before the watcher's own later say.
  watcher.Send("say done");
  ASSERT_TRUE(collect_until("You say, \"done\""));
  EXPECT_EQ(heard, committed);
  // How many group commits carried them (for the closing note; timing decides the split).
  std::cout << "[ figures  ] " << committed.size() << " events in "
            << second.Metric("holomush_event_append_batch_size_count").value_or(-1)
            << " commits on the speakers' core\n";
}

TEST_F(ResilienceTest, CoreRestartLosesNoSessionAndNoEvent) {
  PlayerClient ana(core_->address());
  PlayerClient bob(core_->address());
  ASSERT_TRUE(ana.Enter("ana", "secret-ana", true));
  ASSERT_TRUE(bob.Enter("bob", "secret-bob", true));
  ana.Send("say one");
  ASSERT_TRUE(bob.WaitFor("Ana says, \"one\""));
  const std::string bob_seen = bob.last_event_id();
  const std::string ana_seen = ana.last_event_id();
  core_->Kill();
  ASSERT_TRUE(core_->Start()) << core_->process().Output();
  ASSERT_TRUE(core_->WaitReady());
  ASSERT_TRUE(ana.Open(ana_seen));
  ana.Send("say two");
  ASSERT_TRUE(ana.WaitFor("You say, \"two\""));
  ASSERT_TRUE(bob.Open(bob_seen));
  EXPECT_TRUE(bob.WaitFor("Ana says, \"two\""));
  EXPECT_EQ(QueryOne(url_, "SELECT count(*) FROM events WHERE type = 'say'"), "2");
}

TEST_F(ResilienceTest, DatabaseRestartTurnsReadinessOffThenOnWithoutARestart) {
  PlayerClient ana(core_->address());
  ASSERT_TRUE(ana.Enter("ana", "secret-ana", true));
  ana.Send("say before");
  ASSERT_TRUE(ana.WaitFor("You say, \"before\""));
  auto& pg = SharedPostgres();
  EXPECT_EQ(core_->Metric("holomush_ready"), 1);
  pg.Stop("fast");
  EXPECT_TRUE(core_->WaitReady(503));
  // The gauge the ReadinessFailing and NoReadyReplicas alerts read follows readiness.
  EXPECT_TRUE(
      WaitUntil([&] { return core_->Metric("holomush_ready") == 0.0; }, std::chrono::seconds(5)));
  auto body = HttpGet(core_->ops_port(), "/healthz/readiness").body;
  EXPECT_NE(body.find("database"), std::string::npos) << body;
  EXPECT_EQ(HttpGet(core_->ops_port(), "/healthz/liveness").status, 200);
  ana.Send("say while down");
  EXPECT_TRUE(ana.WaitFor("did not happen"));
  pg.Start();
  EXPECT_TRUE(core_->WaitReady(200, std::chrono::seconds(30)));
  EXPECT_TRUE(
      WaitUntil([&] { return core_->Metric("holomush_ready") == 1.0; }, std::chrono::seconds(5)));
  ana.Send("say after");
  EXPECT_TRUE(ana.WaitFor("You say, \"after\""));
  EXPECT_TRUE(core_->process().Running());
}

// The listener's connection alone is lost and cannot come back for a while: readiness is
// 503 naming `listener`, the rest of core keeps serving; once it reconnects, readiness is
// 200 again and what changed meanwhile (its NOTIFY lost) is re-read: the world cache forgot.
TEST_F(ResilienceTest, ALostListenerTurnsReadinessOffAndItsReturnReReadsTheWorld) {
  PlayerClient ana(core_->address());
  ASSERT_TRUE(ana.Enter("ana", "secret-ana", true));
  ana.Send("look");
  ASSERT_TRUE(ana.WaitFor("The Nexus"));  // kept in core's world cache from here
  ListenerOutage outage(url_);
  ASSERT_EQ(outage.Begin(), 1);
  ASSERT_TRUE(core_->WaitReady(503));
  const auto body = HttpGet(core_->ops_port(), "/healthz/readiness").body;
  EXPECT_NE(body.find("listener"), std::string::npos) << body;
  EXPECT_EQ(HttpGet(core_->ops_port(), "/healthz/liveness").status, 200);
  // Nobody hears this change's NOTIFY.
  outage.sql.exec("UPDATE locations SET description = 'Changed while nobody listened.'");
  outage.End();
  ASSERT_TRUE(core_->WaitReady(200, std::chrono::seconds(30))) << core_->process().Output();
  ana.Send("look");
  EXPECT_TRUE(ana.WaitFor("Changed while nobody listened."));
  EXPECT_TRUE(core_->process().Running());
}

// Both cores' listeners are cut and cannot come back for a while; meanwhile a say on the
// second core is written through the connections it kept. Their NOTIFYs reach nobody: once
// the first core's listener is back, its player still hears each say once, in order.
TEST_F(ResilienceTest, EventsWrittenElsewhereWhileTheListenerWasDownArriveOnceItReturns) {
  CoreProcess second(url_);
  ASSERT_TRUE(second.Start()) << second.process().Output();
  ASSERT_TRUE(second.WaitReady());
  PlayerClient ana(core_->address());
  PlayerClient bob(second.address());
  ASSERT_TRUE(ana.Enter("ana", "secret-ana", true));
  ASSERT_TRUE(bob.Enter("bob", "secret-bob", true));
  bob.Send("say before");
  ASSERT_TRUE(ana.WaitFor("Bob says, \"before\""));
  ana.Take();

  ListenerOutage outage(url_);
  ASSERT_EQ(outage.Begin(), 2);
  ASSERT_TRUE(core_->WaitReady(503));
  for (int i = 1; i <= 3; ++i) bob.Send("say away " + std::to_string(i));
  const auto written = [&] {
    return outage.sql
        .exec1("SELECT count(*) FROM events WHERE payload->>'message' LIKE 'away %'")[0]
        .as<int>();
  };
  ASSERT_TRUE(WaitUntil([&] { return written() == 3; })) << written();
  outage.End();
  ASSERT_TRUE(core_->WaitReady(200, std::chrono::seconds(30))) << core_->process().Output();

  bob.Send("say back");
  std::vector<std::string> heard;
  EXPECT_TRUE(WaitUntil(
      [&] {
        for (auto& t : ana.Take()) {
          if (t.rfind("Bob says", 0) == 0) heard.push_back(t);
        }
        return !heard.empty() && heard.back() == "Bob says, \"back\"";
      },
      std::chrono::seconds(20)));
  EXPECT_EQ(heard, (std::vector<std::string>{"Bob says, \"away 1\"", "Bob says, \"away 2\"",
                                             "Bob says, \"away 3\"", "Bob says, \"back\""}));
}

// SIGTERM: readiness turns 503 naming the shutdown while open streams drain (half the grace),
// then core exits 0; the sessions stay resumable.
TEST(CoreShutdownTest, SigtermTurnsReadinessOffDrainsAndExitsZero) {
  const auto url = FreshDatabase("sigterm");
  CoreProcess core(url);  // --shutdown-grace 5s
  ASSERT_TRUE(core.Start()) << core.process().Output();
  ASSERT_TRUE(core.WaitReady());
  PlayerClient ana(core.address());
  ASSERT_TRUE(ana.Enter("ana", "secret-ana", true));
  const auto signalled = std::chrono::steady_clock::now();
  core.process().Signal(SIGTERM);
  ASSERT_TRUE(core.WaitReady(503, std::chrono::seconds(3))) << core.process().Output();
  const auto body = HttpGet(core.ops_port(), "/healthz/readiness").body;
  EXPECT_NE(body.find("shutdown: process is stopping"), std::string::npos) << body;
  EXPECT_EQ(core.process().Wait(std::chrono::seconds(15)), 0) << core.process().Output();
  EXPECT_LT(std::chrono::steady_clock::now() - signalled, std::chrono::seconds(8));
  ASSERT_TRUE(WaitUntil([&] { return ana.closed_reason().has_value(); }));
  EXPECT_EQ(ana.closed_reason()->rfind("stream ended: ", 0), 0u) << *ana.closed_reason();
  EXPECT_EQ(QueryOne(url, "SELECT count(*) FROM sessions WHERE ended_at IS NULL"), "1");
  EXPECT_NE(core.process().Output().find("\"msg\":\"stopped\""), std::string::npos);
}

TEST(SessionLingerTest, AKilledCoreLeavesNoGhostsAndItsSessionsStillExpire) {
  const auto url = FreshDatabase("ghost");
  CoreProcess core(url, {"--session-linger", "1s"});
  ASSERT_TRUE(core.Start()) << core.process().Output();
  ASSERT_TRUE(core.WaitReady());
  PlayerClient ana(core.address());
  ASSERT_TRUE(ana.Enter("ana", "secret-ana", true));
  const std::string id = ana.session().session_id();
  core.Kill();
  ana.Drop();
  // Nobody renews the process's lease now; pretend the 30 s have passed rather than wait.
  ExecSql(url,
          "UPDATE core_leases SET lease_until = now() - interval '2 seconds'"
          " WHERE id = (SELECT core_id FROM sessions WHERE id = '" +
              id + "')");
  CoreProcess other(url, {"--session-linger", "1s"});
  ASSERT_TRUE(other.Start()) << other.process().Output();
  PlayerClient bob(other.address());
  ASSERT_TRUE(bob.Enter("bob", "secret-bob", true));
  bob.Send("who");
  auto who = bob.WaitFor("Name  Idle");
  ASSERT_TRUE(who);
  EXPECT_EQ(who->find("Ana"), std::string::npos) << *who;
  EXPECT_TRUE(WaitUntil(
      [&] {
        return QueryOne(url, "SELECT ended_at IS NOT NULL FROM sessions WHERE id = '" + id + "'") ==
               "t";
      },
      std::chrono::seconds(20)));
}

// Core renews its process's 30 s lease every 5 s, which keeps a live session connected:
// lease_until moves forward twice with nobody touching it by hand, and an idle session's
// row is not rewritten by the renewals (one row per process, however many sessions).
TEST(SessionLingerTest, TheProcessLeaseMovesForwardAtEachRenewalAndIdleSessionsStayUnwritten) {
  const auto url = FreshDatabase("renew");
  CoreProcess core(url);
  ASSERT_TRUE(core.Start()) << core.process().Output();
  ASSERT_TRUE(core.WaitReady());
  PlayerClient ana(core.address());
  ASSERT_TRUE(ana.Enter("ana", "secret-ana", true));
  const std::string session = "'" + ana.session().session_id() + "'";
  const std::string lease =
      "SELECT (extract(epoch FROM l.lease_until) * 1000000)::bigint FROM core_leases l"
      " JOIN sessions s ON s.core_id = l.id WHERE s.id = " +
      session;
  const std::string row_version = "SELECT xmin FROM sessions WHERE id = " + session;
  std::string seen = QueryOne(url, lease);
  std::string version_after_first;
  for (int renewal = 1; renewal <= 2; ++renewal) {
    const std::string before = seen;
    ASSERT_TRUE(WaitUntil(
        [&] {
          seen = QueryOne(url, lease);
          return std::stoll(seen) > std::stoll(before);
        },
        std::chrono::seconds(15)))
        << "renewal " << renewal << " never came; lease_until stayed " << before;
    // The first renewal may record the login's commands as activity; after it ana is idle.
    if (renewal == 1) version_after_first = QueryOne(url, row_version);
  }
  EXPECT_EQ(QueryOne(url, row_version), version_after_first)
      << "a renewal rewrote an idle session's row";
  EXPECT_EQ(QueryOne(url, "SELECT count(*) FROM core_leases"), "1");
  // Still 30 s ahead of the database's clock, give or take the 5 s between renewals.
  EXPECT_EQ(QueryOne(url,
                     "SELECT l.lease_until > now() + interval '20 seconds' FROM core_leases l"
                     " JOIN sessions s ON s.core_id = l.id WHERE s.id = " +
                         session),
            "t");
}

TEST(SessionLingerTest, ADroppedSessionEndsAfterTheLingerTime) {
  const auto url = FreshDatabase("linger");
  CoreProcess core(url, {"--session-linger", "1s"});
  ASSERT_TRUE(core.Start()) << core.process().Output();
  ASSERT_TRUE(core.WaitReady());
  PlayerClient ana(core.address());
  ASSERT_TRUE(ana.Enter("ana", "secret-ana", true));
  const std::string id = ana.session().session_id();
  EXPECT_EQ(QueryOne(url, "SELECT connected FROM sessions WHERE id = '" + id + "'"), "t");
  ana.Drop();
  ASSERT_TRUE(WaitUntil(
      [&] {
        return QueryOne(url, "SELECT ended_at IS NOT NULL FROM sessions WHERE id = '" + id + "'") ==
               "t";
      },
      std::chrono::seconds(20)));
  EXPECT_FALSE(ana.Open());
  EXPECT_EQ(*ana.closed_reason(), "stream ended: That session has ended; please log in again.");
}

}  // namespace
}  // namespace holomush::testing
