// `holomush backup` against a real PostgreSQL and a real core: restores are row-for-row, and
// no failure (killed dump, full disk, signal, concurrent run) leaves a complete-looking file.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <set>
#include <thread>

#include "db_helpers.hpp"
#include "support/core_harness.hpp"
#include "support/postgres.hpp"
#include "support/process.hpp"
#include "support/wait.hpp"

namespace holomush::testing {
namespace {

namespace fs = std::filesystem;

struct Outcome {
  int code = -1;
  std::string output;
};

std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// Runs `holomush <args>` through sh (after `prefix`, e.g. a ulimit) and returns once the exit
// code line is read, so every line the command printed has been read too.
Outcome Holomush(const std::vector<std::string>& args, std::map<std::string, std::string> env = {},
                 const std::string& prefix = "") {
  std::string command = prefix + ShellQuote(HOLOMUSH_BINARY);
  for (const auto& a : args) command += " " + ShellQuote(a);
  command += "; echo \"holomush-exit=$?\"";
  ChildProcess p({"/bin/sh", "-c", command}, std::move(env));
  Outcome out;
  auto line = p.WaitForLine("holomush-exit=", std::chrono::seconds(120));
  if (line) out.code = std::stoi(line->substr(line->find('=') + 1));
  p.Wait();
  out.output = p.Output();
  return out;
}

std::vector<std::string> Names(const fs::path& dir, bool hidden) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string n = e.path().filename().string();
    if ((n[0] == '.') == hidden) names.push_back(n);
  }
  std::sort(names.begin(), names.end());
  return names;
}

// Files a person or a restore script could take for a backup.
std::vector<std::string> CompleteLooking(const fs::path& dir) { return Names(dir, false); }

std::vector<std::string> Partials(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& n : Names(dir, true)) {
    if (n.size() > 8 && n.substr(n.size() - 8) == ".partial") out.push_back(n);
  }
  return out;
}

std::string JsonField(const std::string& output, const std::string& msg, const std::string& key) {
  std::istringstream lines(output);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] != '{') continue;
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || j.value("msg", "") != msg || !j.contains(key)) continue;
    return j[key].is_string() ? j[key].get<std::string>() : j[key].dump();
  }
  return "";
}

nlohmann::json ListJson(const fs::path& dir) {
  auto out = Holomush({"backup", "list", "--dir", dir.string(), "--json"});
  EXPECT_EQ(out.code, 0) << out.output;
  auto text = out.output.substr(0, out.output.rfind("holomush-exit="));
  return nlohmann::json::parse(text);
}

// Every table's rows as JSON text, sorted (events in id order: the game's order), plus the
// indexes and extensions, so a restore that lost an index or a row differs.
std::map<std::string, std::vector<std::string>> Contents(const std::string& url) {
  pqxx::connection conn(url);
  pqxx::read_transaction txn(conn);
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& t :
       txn.exec("SELECT table_name FROM information_schema.tables"
                " WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1")) {
    const std::string table = t[0].as<std::string>();
    const std::string order = table == "events" ? "x.id" : "1";
    auto& rows = out[table];
    for (const auto& r : txn.exec("SELECT row_to_json(x)::text FROM public." +
                                  txn.quote_name(table) + " x ORDER BY " + order)) {
      rows.push_back(r[0].as<std::string>());
    }
  }
  for (const auto& r : txn.exec("SELECT indexname || ': ' || indexdef FROM pg_indexes"
                                " WHERE schemaname = 'public' ORDER BY 1")) {
    out["(indexes)"].push_back(r[0].as<std::string>());
  }
  for (const auto& r : txn.exec("SELECT extname FROM pg_extension ORDER BY 1")) {
    out["(extensions)"].push_back(r[0].as<std::string>());
  }
  return out;
}

class BackupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("holomush-backup-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
    dir_ = root_ / "backups";
    url_ = FreshDatabase("bk");
    env_ = {{"DATABASE_URL", url_}};
    real_pg_dump_ = SharedPostgres().Tool("pg_dump");
  }
  void TearDown() override {
    if (mounted_) ::umount2(mount_.c_str(), MNT_DETACH);
    fs::remove_all(root_);
  }

  void Migrate() {
    auto out = Holomush({"migrate", "up"}, env_);
    ASSERT_EQ(out.code, 0) << out.output;
  }

  Outcome Run(std::vector<std::string> extra = {}, const std::string& dir = "") {
    std::vector<std::string> args = {"backup", "run", "--dir", dir.empty() ? dir_.string() : dir};
    args.insert(args.end(), extra.begin(), extra.end());
    return Holomush(args, env_);
  }

  // A shell script standing in for pg_dump; `body` sees $REAL (the real pg_dump), $OUT (the
  // --file it was given) and "$@" (the other arguments). `--version` goes to the real one.
  std::string FakePgDump(const std::string& name, const std::string& body) {
    const fs::path path = root_ / name;
    std::ofstream(path) << "#!/bin/sh\n"
                        << "REAL=" << ShellQuote(real_pg_dump_) << "\n"
                        << "OUT=\n"
                        << "for a do\n"
                        << "  shift\n"
                        << "  case \"$a\" in --file=*) OUT=\"${a#--file=}\" ;;"
                        << " *) set -- \"$@\" \"$a\" ;; esac\n"
                        << "done\n"
                        << "[ -n \"$OUT\" ] || exec \"$REAL\" \"$@\"\n"
                        << body << "\n";
    fs::permissions(path, fs::perms::owner_all);
    return path.string();
  }

  fs::path root_;
  fs::path dir_;
  fs::path mount_;
  bool mounted_ = false;
  std::string url_;
  std::map<std::string, std::string> env_;
  std::string real_pg_dump_;
};

TEST_F(BackupTest, ScriptedSessionRestoresRowForRow) {
  std::vector<std::string> said;
  {
    CoreProcess core(url_);
    ASSERT_TRUE(core.Start()) << core.process().Output();
    ASSERT_TRUE(core.WaitReady()) << core.process().Output();
    PlayerClient ana(core.address());
    PlayerClient bob(core.address());
    std::string made;
    ASSERT_EQ(AdminCreate(url_, {"ana"}, "secret-ana", &made), 0) << made;
    ASSERT_TRUE(ana.Enter("ana", "secret-ana", false));
    ASSERT_TRUE(bob.Enter("bob", "secret-bob", true));
    // Who types what, who sees what; `said` collects the says in the order they were said.
    struct Step {
      PlayerClient& from;
      std::string line;
      PlayerClient& watcher;
      std::string expect;
      std::string says;
    };
    const std::vector<Step> script = {
        {ana, "say Hello there", bob, "Ana says, \"Hello there\"", "Hello there"},
        {bob, "\"Hi!", ana, "Bob says, \"Hi!\"", "Hi!"},
        {ana, ":waves.", bob, "Ana waves.", ""},
        {ana, "dig north;n to \"The Garden\" return south;s", ana,
         "Dug \"The Garden\" through north. Return exit: south.", ""},
        {ana, "describe here=Soft light everywhere.", ana, "Description set.", ""},
        {ana, "alias gr=say Greetings", ana, "Alias 'gr' set: say Greetings", ""},
        {ana, "gr friends", bob, "Ana says, \"Greetings friends\"", "Greetings friends"},
        {ana, "sysalias hi=say hi all", ana, "System alias 'hi' set", ""},
        {ana, "page bob=psst", bob, "Ana pages: psst", ""},
        {bob, "nroth", bob, "The Garden", ""},
    };
    for (const auto& step : script) {
      step.from.Send(step.line);
      if (!step.says.empty()) said.push_back(step.says);
      ASSERT_TRUE(step.watcher.WaitFor(step.expect)) << step.line;
    }
    for (int i = 1; i <= 20; ++i) {
      bob.Send("say line " + std::to_string(i));
      said.push_back("line " + std::to_string(i));
      ASSERT_TRUE(bob.WaitFor("You say, \"line " + std::to_string(i) + "\""));
    }
    // Core stops first, so the source cannot change between the backup and the comparison.
    core.Stop();
  }
  const auto source = Contents(url_);
  ASSERT_GE(source.at("events").size(), said.size());

  auto run = Run();
  ASSERT_EQ(run.code, 0) << run.output;
  const std::string file = JsonField(run.output, "backup complete", "file");
  ASSERT_FALSE(file.empty()) << run.output;
  for (const char* step :
       {"lock acquired", "snapshot taken", "dump written", "dump synced", "archive verified",
        "checksum computed", "manifest written", "backup in place", "backup complete"}) {
    EXPECT_NE(run.output.find("\"msg\":\"" + std::string(step) + "\""), std::string::npos) << step;
  }

  auto list = ListJson(dir_);
  ASSERT_EQ(list.size(), 1u);
  EXPECT_TRUE(list[0]["verified"].get<bool>());
  EXPECT_EQ(list[0]["schema_version"].get<int>(),
            std::stoi(QueryOne(url_, "SELECT max(version) FROM schema_migrations")));

  const std::string target = FreshDatabase("bkr");
  const auto restore_started = std::chrono::steady_clock::now();
  auto restore = Holomush({"backup", "restore", file}, {{"DATABASE_URL", target}});
  const auto restore_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - restore_started).count();
  ASSERT_EQ(restore.code, 0) << restore.output;
  EXPECT_EQ(JsonField(restore.output, "restore complete", "schema_version"),
            JsonField(restore.output, "restore complete", "manifest_schema_version"));
  std::cout << "[ figures  ] backup "
            << JsonField(run.output, "backup complete", "duration_seconds") << " s, "
            << JsonField(run.output, "backup complete", "size_bytes") << " bytes, "
            << source.at("events").size() << " events; restore (incl. verify) " << restore_seconds
            << " s\n";

  const auto restored = Contents(target);
  ASSERT_EQ(restored.size(), source.size());
  for (const auto& [table, rows] : source) {
    ASSERT_TRUE(restored.count(table)) << table;
    EXPECT_EQ(restored.at(table), rows) << "table " << table << " differs after restore";
  }
  // The game's order survives: says come back in the order they were said.
  std::vector<std::string> says;
  {
    pqxx::connection conn(target);
    pqxx::read_transaction txn(conn);
    for (const auto& r :
         txn.exec("SELECT payload->>'message' FROM events WHERE type = 'say' ORDER BY id")) {
      says.push_back(r[0].as<std::string>());
    }
  }
  EXPECT_EQ(says, said);

  // And the restored database is a game: core is ready on it, ana logs in with her password,
  // her alias and bob's position are there.
  CoreProcess restored_core(target);
  ASSERT_TRUE(restored_core.Start()) << restored_core.process().Output();
  ASSERT_TRUE(restored_core.WaitReady()) << restored_core.process().Output();
  PlayerClient ana(restored_core.address());
  ASSERT_TRUE(ana.Enter("ana", "secret-ana", false));
  ana.Send("gr again");
  EXPECT_TRUE(ana.WaitFor("You say, \"Greetings again\""));
  ana.Send("look");
  EXPECT_TRUE(ana.WaitFor("Soft light everywhere."));
  ana.Send("n");
  EXPECT_TRUE(ana.WaitFor("The Garden"));
}

TEST_F(BackupTest, BackupDuringPlayIsOneConsistentMoment) {
  // The talker says its lines back to back, far above a player's flood limit.
  CoreProcess core(url_, {"--command-rate", "10000", "--command-burst", "10000"});
  ASSERT_TRUE(core.Start()) << core.process().Output();
  ASSERT_TRUE(core.WaitReady()) << core.process().Output();
  PlayerClient ana(core.address());
  ASSERT_TRUE(ana.Enter("ana", "secret-ana", true));
  std::atomic<int> echoed{0};
  std::atomic<bool> stop{false};
  std::thread talker([&] {
    for (int i = 1; !stop; ++i) {
      ana.Send("say line " + std::to_string(i));
      if (!ana.WaitFor("You say, \"line " + std::to_string(i) + "\"")) return;
      echoed = i;
    }
  });
  const bool started = WaitUntil([&] { return echoed >= 5; }, std::chrono::seconds(30));
  auto run = started ? Run() : Outcome{};
  const int after_backup = echoed;
  const bool went_on =
      WaitUntil([&] { return echoed >= after_backup + 3; }, std::chrono::seconds(30));
  stop = true;
  talker.join();
  ASSERT_TRUE(started);
  ASSERT_TRUE(went_on);
  ASSERT_EQ(run.code, 0) << run.output;

  const std::string target = FreshDatabase("bkp");
  auto restore = Holomush({"backup", "restore", JsonField(run.output, "backup complete", "file")},
                          {{"DATABASE_URL", target}});
  ASSERT_EQ(restore.code, 0) << restore.output;
  // The dump is one snapshot: the says it holds are the first k, with no gap, while the source
  // went on past them.
  std::vector<std::string> says;
  {
    pqxx::connection conn(target);
    pqxx::read_transaction txn(conn);
    for (const auto& r :
         txn.exec("SELECT payload->>'message' FROM events WHERE type = 'say' ORDER BY id")) {
      says.push_back(r[0].as<std::string>());
    }
  }
  ASSERT_GE(says.size(), 5u);
  for (size_t i = 0; i < says.size(); ++i) EXPECT_EQ(says[i], "line " + std::to_string(i + 1));
  EXPECT_LT(says.size(),
            std::stoul(QueryOne(url_, "SELECT count(*) FROM events WHERE type = 'say'")));
}

class BackupFileTest : public BackupTest {
 protected:
  void SetUp() override {
    BackupTest::SetUp();
    Migrate();
    ExecSql(url_,
            "INSERT INTO system_info (key, value) SELECT 'k' || g, repeat(md5(g::text), 20)"
            " FROM generate_series(1, 2000) g");
  }
  std::string MakeBackup() {
    auto run = Run();
    EXPECT_EQ(run.code, 0) << run.output;
    return JsonField(run.output, "backup complete", "file");
  }
  // A copy of the backup (archive and sidecars) under another name, the sidecars rewritten to
  // name it, so only the bytes we change can make verify fail.
  fs::path CopyAs(const fs::path& file, const std::string& name) {
    const fs::path to = dir_ / name;
    fs::copy_file(file, to);
    std::ifstream sum_in(file.string() + ".sha256");
    std::string sum;
    sum_in >> sum;
    std::ofstream(to.string() + ".sha256") << sum << "  " << name << "\n";
    fs::copy_file(file.string() + ".json", to.string() + ".json");
    return to;
  }
  Outcome Verify(const fs::path& file) { return Holomush({"backup", "verify", file.string()}); }
};

TEST_F(BackupFileTest, IntactBackupVerifies) {
  const std::string file = MakeBackup();
  // A dump holds every password hash: readable by its owner only, whatever the umask.
  EXPECT_EQ(fs::status(file).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
  auto out = Verify(file);
  EXPECT_EQ(out.code, 0) << out.output;
  EXPECT_NE(out.output.find("\"msg\":\"backup verified\""), std::string::npos) << out.output;
}

TEST_F(BackupFileTest, CorruptedBackupFailsVerify) {
  const fs::path file = MakeBackup();
  const auto corrupt = CopyAs(file, "holomush-corrupt.dump");
  {
    std::fstream f(corrupt, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(fs::file_size(corrupt) / 2));
    f.write("XXXXXXXX", 8);
  }
  auto out = Verify(corrupt);
  EXPECT_EQ(out.code, 1) << out.output;
  EXPECT_NE(out.output.find("checksum mismatch"), std::string::npos) << out.output;
}

TEST_F(BackupFileTest, TruncatedBackupFailsVerify) {
  const fs::path file = MakeBackup();
  const auto truncated = CopyAs(file, "holomush-truncated.dump");
  fs::resize_file(truncated, fs::file_size(truncated) * 2 / 3);
  auto out = Verify(truncated);
  EXPECT_EQ(out.code, 1) << out.output;
  EXPECT_NE(out.output.find("checksum mismatch"), std::string::npos) << out.output;
}

TEST_F(BackupFileTest, DamageThatMatchesItsChecksumStillFailsVerify) {
  // pg_restore --list alone passes a truncated archive (it reads only the table of contents);
  // verify reads every block, so damage with a recomputed checksum is still caught.
  const fs::path file = MakeBackup();
  const auto truncated = CopyAs(file, "holomush-rehashed.dump");
  fs::resize_file(truncated, fs::file_size(truncated) * 2 / 3);
  fs::remove(truncated.string() + ".json");
  ChildProcess sum({"/bin/sh", "-c",
                    "cd " + ShellQuote(dir_.string()) +
                        " && sha256sum holomush-rehashed.dump > holomush-rehashed.dump.sha256"});
  ASSERT_EQ(sum.Wait(), 0) << sum.Output();

  ChildProcess list({SharedPostgres().Tool("pg_restore"), "--list", truncated.string()});
  ASSERT_EQ(list.Wait(), 0) << "pg_restore --list should pass a truncated archive";

  auto out = Verify(truncated);
  EXPECT_EQ(out.code, 1) << out.output;
  EXPECT_NE(out.output.find("reading every block"), std::string::npos) << out.output;
}

TEST_F(BackupFileTest, ArchiveWithoutChecksumFailsVerify) {
  const fs::path file = MakeBackup();
  const auto bare = CopyAs(file, "holomush-bare.dump");
  fs::remove(bare.string() + ".sha256");
  auto out = Verify(bare);
  EXPECT_EQ(out.code, 1) << out.output;
  EXPECT_NE(out.output.find("no checksum file"), std::string::npos) << out.output;
}

TEST_F(BackupFileTest, StatusFileCarriesTheSummary) {
  const fs::path status = root_ / "termination-log";
  auto out = Run({"--status-file", status.string()});
  ASSERT_EQ(out.code, 0) << out.output;
  auto j = nlohmann::json::parse(std::ifstream(status));
  EXPECT_EQ(j["msg"], "backup complete");
  EXPECT_EQ(j["exit_code"], 0);
  EXPECT_EQ(j["file"], JsonField(out.output, "backup complete", "file"));
  EXPECT_EQ(j["sha256"], JsonField(out.output, "backup complete", "sha256"));
  EXPECT_TRUE(j.contains("created_at"));
}

TEST_F(BackupFileTest, KilledPgDumpLeavesNoCompleteLookingFile) {
  // Part of a real dump reaches the file, then "pg_dump" dies of SIGKILL.
  const auto fake =
      FakePgDump("pg_dump_killed", "\"$REAL\" \"$@\" | head -c 4000 > \"$OUT\"\nkill -KILL $$");
  const fs::path status = root_ / "termination-log";
  auto out = Run({"--pg-dump", fake, "--status-file", status.string()});
  EXPECT_EQ(out.code, 1) << out.output;
  EXPECT_NE(out.output.find("killed by signal 9"), std::string::npos) << out.output;
  auto j = nlohmann::json::parse(std::ifstream(status));
  EXPECT_EQ(j["msg"], "backup failed");
  EXPECT_EQ(j["exit_code"], 1);
  EXPECT_EQ(j["step"], "dump");
  EXPECT_TRUE(CompleteLooking(dir_).empty());
  EXPECT_TRUE(Partials(dir_).empty());
  EXPECT_TRUE(ListJson(dir_).empty());
  // The next run is unaffected.
  auto again = Run();
  EXPECT_EQ(again.code, 0) << again.output;
  EXPECT_EQ(ListJson(dir_).size(), 1u);
}

TEST_F(BackupFileTest, PgDumpThatLiesAboutSuccessIsCaughtByVerification) {
  // Exit code 0, but the archive is cut short: only the full read notices.
  const auto fake = FakePgDump("pg_dump_short", "\"$REAL\" \"$@\" | head -c 12000 > \"$OUT\"");
  auto out = Run({"--pg-dump", fake});
  EXPECT_EQ(out.code, 1) << out.output;
  EXPECT_EQ(JsonField(out.output, "backup failed", "step"), "verify") << out.output;
  EXPECT_TRUE(CompleteLooking(dir_).empty());
  EXPECT_TRUE(Partials(dir_).empty());
}

// The database password goes to pg_dump in its environment, never in its argv (which every
// user of the machine can read in /proc) nor in the run's output.
TEST_F(BackupFileTest, ThePasswordReachesPgDumpOnlyThroughItsEnvironment) {
  const std::string password = "s3cret-Pw-42";
  auto env = env_;
  const auto at = env["DATABASE_URL"].find("holomush@");
  ASSERT_NE(at, std::string::npos) << env["DATABASE_URL"];
  env["DATABASE_URL"].replace(at, 9, "holomush:" + password + "@");
  const fs::path argv = root_ / "argv";
  const fs::path secret = root_ / "pgpassword";
  const auto spy = FakePgDump("pg_dump_spy",
                              "printf '%s\\n' \"$@\" > " + ShellQuote(argv.string()) +
                                  "\nprintf '%s' \"$PGPASSWORD\" > " + ShellQuote(secret.string()) +
                                  "\nexec \"$REAL\" --file=\"$OUT\" \"$@\"");
  auto out = Holomush({"backup", "run", "--dir", dir_.string(), "--pg-dump", spy}, env);
  EXPECT_EQ(out.code, 0) << out.output;
  std::ifstream argv_in(argv);
  const std::string args((std::istreambuf_iterator<char>(argv_in)),
                         std::istreambuf_iterator<char>());
  ASSERT_NE(args.find("--dbname="), std::string::npos) << args;
  EXPECT_EQ(args.find(password), std::string::npos) << args;
  std::ifstream secret_in(secret);
  std::string given;
  std::getline(secret_in, given);
  EXPECT_EQ(given, password);
  EXPECT_EQ(out.output.find(password), std::string::npos) << out.output;
}

// A pg_dump older than the server would fail halfway or dump wrongly: refused up front,
// naming both versions and what to do.
TEST_F(BackupFileTest, APgDumpOlderThanTheServerIsRefusedBeforeItRuns) {
  const fs::path old_client = root_ / "pg_dump_11";
  const fs::path ran = root_ / "ran";
  std::ofstream(old_client) << "#!/bin/sh\n"
                            << "case \"$1\" in --version) echo 'pg_dump (PostgreSQL) 11.22';"
                            << " exit 0 ;; esac\n"
                            << ": > " << ShellQuote(ran.string()) << "\nexit 1\n";
  fs::permissions(old_client, fs::perms::owner_all);
  auto out = Run({"--pg-dump", old_client.string()});
  EXPECT_EQ(out.code, 1) << out.output;
  EXPECT_EQ(JsonField(out.output, "backup failed", "step"), "tools") << out.output;
  const std::string server =
      QueryOne(url_, "SELECT current_setting('server_version_num')::int / 10000");
  EXPECT_NE(out.output.find("pg_dump (PostgreSQL) 11.22 cannot dump a PostgreSQL " + server +
                            " server; install that client or newer, or point --pg-dump at it"),
            std::string::npos)
      << out.output;
  EXPECT_FALSE(fs::exists(ran)) << "the old pg_dump was asked to dump";
  EXPECT_TRUE(CompleteLooking(dir_).empty());
}

TEST_F(BackupFileTest, KilledRunLeavesOnlyAHiddenPartialThatTheNextRunRemoves) {
  const fs::path marker = root_ / "dumping";
  const auto fake =
      FakePgDump("pg_dump_hangs", "\"$REAL\" \"$@\" | head -c 4000 > \"$OUT\"\necho $$ > " +
                                      ShellQuote(marker.string() + ".tmp") + "\nmv " +
                                      ShellQuote(marker.string() + ".tmp") + " " +
                                      ShellQuote(marker.string()) + "\nexec tail -f /dev/null");
  ChildProcess run({HOLOMUSH_BINARY, "backup", "run", "--dir", dir_.string(), "--pg-dump", fake},
                   env_);
  ASSERT_TRUE(WaitUntil([&] { return fs::exists(marker); }, std::chrono::seconds(60)))
      << run.Output();
  std::ifstream pid_file(marker);
  pid_t dump_pid = 0;
  pid_file >> dump_pid;
  ASSERT_GT(dump_pid, 0);
  run.Signal(SIGKILL);
  EXPECT_EQ(run.Wait(), 128 + SIGKILL);
  // pg_dump does not outlive the run that owns its file.
  EXPECT_TRUE(WaitUntil([&] { return ::kill(dump_pid, 0) != 0; }));

  EXPECT_TRUE(CompleteLooking(dir_).empty());
  EXPECT_EQ(Partials(dir_).size(), 1u);
  EXPECT_TRUE(ListJson(dir_).empty());
  auto verify = Holomush({"backup", "verify", (dir_ / Partials(dir_)[0]).string()});
  EXPECT_EQ(verify.code, 1) << verify.output;

  auto again = Run();
  ASSERT_EQ(again.code, 0) << again.output;
  EXPECT_NE(again.output.find("removed leftovers of an interrupted run"), std::string::npos);
  EXPECT_TRUE(Partials(dir_).empty());
  EXPECT_EQ(ListJson(dir_).size(), 1u);
}

TEST_F(BackupFileTest, SigtermStopsTheDumpAndCleansUp) {
  const fs::path marker = root_ / "dumping";
  const auto fake =
      FakePgDump("pg_dump_hangs", "\"$REAL\" \"$@\" | head -c 4000 > \"$OUT\"\n: > " +
                                      ShellQuote(marker.string()) + "\nexec tail -f /dev/null");
  ChildProcess run({HOLOMUSH_BINARY, "backup", "run", "--dir", dir_.string(), "--pg-dump", fake},
                   env_);
  ASSERT_TRUE(WaitUntil([&] { return fs::exists(marker); }, std::chrono::seconds(60)))
      << run.Output();
  run.Signal(SIGTERM);
  EXPECT_EQ(run.Wait(), 1) << run.Output();
  EXPECT_NE(run.Output().find("stopped by SIGTERM"), std::string::npos) << run.Output();
  EXPECT_TRUE(CompleteLooking(dir_).empty());
  EXPECT_TRUE(Partials(dir_).empty());
}

TEST_F(BackupFileTest, FileSizeLimitLeavesNoCompleteLookingFile) {
  // Writes past RLIMIT_FSIZE fail with EFBIG (SIGXFSZ ignored, as it is inherited): a full
  // disk as pg_dump sees it, without privileges.
  auto out =
      Holomush({"backup", "run", "--dir", dir_.string()}, env_, "trap '' XFSZ; ulimit -f 16; ");
  EXPECT_EQ(out.code, 1) << out.output;
  EXPECT_EQ(JsonField(out.output, "backup failed", "step"), "dump") << out.output;
  EXPECT_TRUE(CompleteLooking(dir_).empty());
  EXPECT_TRUE(Partials(dir_).empty());
}

TEST_F(BackupFileTest, FullDiskAtAnySizeLeavesABackupOrNothing) {
  const std::string file = MakeBackup();
  const auto size = fs::file_size(file);
  mount_ = root_ / "small";
  fs::create_directories(mount_);
  if (::mount("tmpfs", mount_.c_str(), "tmpfs", 0, "size=4k") != 0) {
    // Not a skip: a run that cannot test a full disk must say so by failing.
    FAIL() << "cannot mount a 4 kB tmpfs to fill (the test needs CAP_SYS_ADMIN, as root in CI "
              "has): "
           << std::strerror(errno);
  }
  mounted_ = true;
  // Too small for the archive, then just big enough for it but not its sidecars, then ample.
  const size_t pages = (size + 4095) / 4096;
  std::set<std::string> failed_steps;
  int succeeded = 0;
  std::vector<size_t> sizes = {1};
  for (size_t p = pages > 3 ? pages - 2 : 2; p <= pages + 3; ++p) sizes.push_back(p);
  for (size_t p : sizes) {
    const std::string options = "size=" + std::to_string(p * 4096);
    ASSERT_EQ(::mount("tmpfs", mount_.c_str(), "tmpfs", MS_REMOUNT, options.c_str()), 0);
    const fs::path dir = mount_ / ("b" + std::to_string(p));
    auto out = Run({}, dir.string());
    if (out.code == 0) {
      ++succeeded;
      auto names = CompleteLooking(dir);
      ASSERT_EQ(names.size(), 3u) << out.output;
      auto verify = Holomush({"backup", "verify", (dir / names[0]).string()});
      EXPECT_EQ(verify.code, 0) << verify.output;
    } else {
      failed_steps.insert(JsonField(out.output, "backup failed", "step"));
      EXPECT_EQ(out.code, 1) << out.output;
      EXPECT_TRUE(CompleteLooking(dir).empty()) << "at " << p << " pages:\n" << out.output;
      EXPECT_TRUE(Partials(dir).empty()) << "at " << p << " pages:\n" << out.output;
    }
    fs::remove_all(dir);
  }
  // Both pg_dump's writes and our own (checksum, manifest) met the full disk. At one size
  // pg_dump 15 exits 0 with the archive cut short (its last write's error goes unchecked) and
  // pg_restore --list still passes it: only the full read stops it, at "verify".
  EXPECT_TRUE(failed_steps.count("dump"));
  EXPECT_TRUE(failed_steps.count("manifest"));
  failed_steps.erase("verify");
  EXPECT_EQ(failed_steps, (std::set<std::string>{"dump", "manifest"}));
  EXPECT_GT(succeeded, 0);
}

TEST_F(BackupFileTest, RetentionRemovesOnlyTheOldestVerifiedBackups) {
  std::vector<std::string> made;
  for (int i = 0; i < 3; ++i) made.push_back(fs::path(MakeBackup()).filename().string());
  // Not ours to delete: an archive without a manifest, and one its run did not verify.
  std::ofstream(dir_ / "holomush-20000101T000000Z.dump") << "someone's file";
  fs::copy_file(dir_ / made[0], dir_ / "holomush-20000102T000000Z.dump");
  {
    auto manifest = nlohmann::json::parse(std::ifstream(dir_ / (made[0] + ".json")));
    manifest["file"] = "holomush-20000102T000000Z.dump";
    manifest["created_at"] = "2000-01-02T00:00:00.000Z";
    manifest["verified"] = false;
    std::ofstream(dir_ / "holomush-20000102T000000Z.dump.json") << manifest.dump();
  }

  auto run = Run({"--keep-last", "2"});
  ASSERT_EQ(run.code, 0) << run.output;
  const std::string newest = fs::path(JsonField(run.output, "backup complete", "file")).filename();
  auto names = CompleteLooking(dir_);
  std::vector<std::string> expected = {"holomush-20000101T000000Z.dump",
                                       "holomush-20000102T000000Z.dump",
                                       "holomush-20000102T000000Z.dump.json",
                                       made[2],
                                       made[2] + ".json",
                                       made[2] + ".sha256",
                                       newest,
                                       newest + ".json",
                                       newest + ".sha256"};
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(names, expected);

  // By age: made[2] is dated ten days back; one day is the limit.
  {
    auto path = dir_ / (made[2] + ".json");
    auto manifest = nlohmann::json::parse(std::ifstream(path));
    manifest["created_at"] = "2000-01-10T00:00:00.000Z";
    std::ofstream(path) << manifest.dump();
  }
  auto by_age = Run({"--max-age", "1d"});
  ASSERT_EQ(by_age.code, 0) << by_age.output;
  EXPECT_FALSE(fs::exists(dir_ / made[2]));
  EXPECT_TRUE(fs::exists(dir_ / newest));

  // The tightest policy still keeps the backup just made.
  auto tight = Run({"--keep-last", "1", "--max-age", "1ms"});
  ASSERT_EQ(tight.code, 0) << tight.output;
  const std::string last = fs::path(JsonField(tight.output, "backup complete", "file")).filename();
  std::vector<std::string> verified;
  for (const auto& b : ListJson(dir_)) {
    if (b["verified"].get<bool>()) verified.push_back(b["file"].get<std::string>());
  }
  EXPECT_EQ(verified, std::vector<std::string>{last});
  EXPECT_TRUE(fs::exists(dir_ / "holomush-20000101T000000Z.dump"));
  EXPECT_TRUE(fs::exists(dir_ / "holomush-20000102T000000Z.dump"));
}

TEST_F(BackupFileTest, ARetentionErrorIsLoggedAndTheRunStillSucceeds) {
  const std::string old = MakeBackup();
  // A bind mount over the old archive: unlinking it fails (EBUSY), even for root.
  ASSERT_EQ(::mount(old.c_str(), old.c_str(), nullptr, MS_BIND, nullptr), 0)
      << std::strerror(errno);
  mount_ = old;
  mounted_ = true;

  auto run = Run({"--keep-last", "1"});
  EXPECT_EQ(run.code, 0) << run.output;
  EXPECT_EQ(JsonField(run.output, "retention cannot remove a backup", "level"), "error")
      << run.output;
  EXPECT_EQ(JsonField(run.output, "retention cannot remove a backup", "file"), old);
  EXPECT_EQ(JsonField(run.output, "retention cannot remove a backup", "error"),
            std::strerror(EBUSY));
  EXPECT_EQ(JsonField(run.output, "backup complete", "removed"), "0");
  // The archive goes first, so its sidecars stay with it; the new backup is whole.
  EXPECT_TRUE(fs::exists(old + ".json"));
  EXPECT_TRUE(fs::exists(old + ".sha256"));
  auto verify = Verify(JsonField(run.output, "backup complete", "file"));
  EXPECT_EQ(verify.code, 0) << verify.output;
}

// The operator's CronJob configures `backup run` only through the environment
// (HOLOMUSH_BACKUP_DIR, _KEEP_LAST, _MAX_AGE, _STATUS_FILE): each name reaches the command.
TEST_F(BackupFileTest, EveryRunSettingComesFromTheEnvironmentAsTheCronJobSetsIt) {
  const fs::path status = root_ / "status-from-env";
  auto run = [&](const std::map<std::string, std::string>& settings) {
    auto env = env_;
    env["HOLOMUSH_BACKUP_DIR"] = dir_.string();
    env["HOLOMUSH_BACKUP_STATUS_FILE"] = status.string();
    for (const auto& [k, v] : settings) env[k] = v;
    auto out = Holomush({"backup", "run"}, env);
    EXPECT_EQ(out.code, 0) << out.output;
    return fs::path(JsonField(out.output, "backup complete", "file")).filename().string();
  };
  const std::string first = run({});
  ASSERT_FALSE(first.empty());
  ASSERT_TRUE(fs::exists(dir_ / first));  // HOLOMUSH_BACKUP_DIR
  {
    auto path = dir_ / (first + ".json");
    auto manifest = nlohmann::json::parse(std::ifstream(path));
    manifest["created_at"] = "2000-01-10T00:00:00.000Z";
    std::ofstream(path) << manifest.dump();
  }
  const std::string second = run({{"HOLOMUSH_BACKUP_MAX_AGE", "1d"}});
  EXPECT_FALSE(fs::exists(dir_ / first));  // older than a day
  EXPECT_TRUE(fs::exists(dir_ / second));
  const std::string third = run({{"HOLOMUSH_BACKUP_KEEP_LAST", "1"}});
  EXPECT_FALSE(fs::exists(dir_ / second));  // beyond the newest one
  EXPECT_TRUE(fs::exists(dir_ / third));
  auto summary = nlohmann::json::parse(std::ifstream(status));
  EXPECT_EQ(fs::path(summary["file"].get<std::string>()).filename().string(), third);
  auto list = Holomush({"backup", "list", "--json"}, {{"HOLOMUSH_BACKUP_DIR", dir_.string()}});
  EXPECT_EQ(list.code, 0) << list.output;
  EXPECT_NE(list.output.find(third), std::string::npos) << list.output;
}

TEST_F(BackupFileTest, OfTwoRunsAtOnceOneRefuses) {
  const fs::path marker = root_ / "dumping";
  const fs::path gate = root_ / "gate";
  ASSERT_EQ(::mkfifo(gate.c_str(), 0600), 0);
  const auto fake = FakePgDump("pg_dump_gated", ": > " + ShellQuote(marker.string()) +
                                                    "\nread _ < " + ShellQuote(gate.string()) +
                                                    "\nexec \"$REAL\" --file=\"$OUT\" \"$@\"");
  ChildProcess first(
      {"/bin/sh", "-c",
       ShellQuote(HOLOMUSH_BINARY) + " backup run --dir " + ShellQuote(dir_.string()) +
           " --pg-dump " + ShellQuote(fake) + "; echo \"holomush-exit=$?\""},
      env_);
  ASSERT_TRUE(WaitUntil([&] { return fs::exists(marker); }, std::chrono::seconds(60)))
      << first.Output();

  auto second = Run();
  EXPECT_EQ(second.code, 3) << second.output;
  EXPECT_NE(second.output.find("another run is in progress"), std::string::npos) << second.output;
  EXPECT_NE(second.output.find("holds"), std::string::npos) << second.output;

  std::ofstream(gate) << "go\n";  // opens once the first run's pg_dump waits on it
  auto line = first.WaitForLine("holomush-exit=", std::chrono::seconds(60));
  ASSERT_TRUE(line) << first.Output();
  EXPECT_EQ(*line, "holomush-exit=0") << first.Output();
  EXPECT_EQ(ListJson(dir_).size(), 1u);
}

// A dump waiting on a table lock is seen, by name, in pg_stat_activity: what a DBA reads.
TEST_F(BackupFileTest, TheDumpNamesItselfHolomushBackupInPgStatActivity) {
  pqxx::connection blocker(url_);
  pqxx::work lock(blocker);
  lock.exec("LOCK TABLE system_info IN ACCESS EXCLUSIVE MODE");
  ChildProcess run({"/bin/sh", "-c",
                    ShellQuote(HOLOMUSH_BINARY) + " backup run --dir " + ShellQuote(dir_.string()) +
                        "; echo \"holomush-exit=$?\""},
                   env_);
  const std::string waiting =
      "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
      " AND application_name = 'holomush-backup' AND wait_event_type = 'Lock'";
  EXPECT_TRUE(WaitUntil([&] { return QueryOne(url_, waiting) == "1"; }, std::chrono::seconds(60)))
      << run.Output();
  lock.commit();
  auto line = run.WaitForLine("holomush-exit=", std::chrono::seconds(60));
  ASSERT_TRUE(line) << run.Output();
  EXPECT_EQ(*line, "holomush-exit=0") << run.Output();
}

TEST_F(BackupFileTest, RestoreRefusesANonEmptyTargetUnlessForced) {
  const std::string file = MakeBackup();
  ExecSql(url_, "INSERT INTO system_info (key, value) VALUES ('after-backup', 'x')");
  ExecSql(url_, "CREATE TABLE newer_feature (id int)");

  auto refused = Holomush({"backup", "restore", file}, env_);
  EXPECT_EQ(refused.code, 1) << refused.output;
  EXPECT_NE(refused.output.find("the target database is not empty"), std::string::npos);
  EXPECT_EQ(QueryOne(url_, "SELECT count(*) FROM system_info WHERE key = 'after-backup'"), "1");

  auto forced = Holomush({"backup", "restore", file, "--force"}, env_);
  ASSERT_EQ(forced.code, 0) << forced.output;
  EXPECT_EQ(QueryOne(url_, "SELECT count(*) FROM system_info WHERE key = 'after-backup'"), "0");
  EXPECT_EQ(QueryOne(url_, "SELECT count(*) FROM system_info"), "2001");
  EXPECT_EQ(QueryOne(url_, "SELECT to_regclass('newer_feature') IS NULL"), "t");
}

// A DBA made the target database and its extension; the game's role owns the database but
// not pg_trgm, so it may not comment on it: the restore leaves that out and succeeds.
TEST_F(BackupFileTest, RestoreAsTheDatabaseOwnerBesideADbaOwnedExtension) {
  const std::string file = MakeBackup();
  const std::string admin = FreshDatabase("nonowner");
  ExecSql(admin,
          "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'game_owner') THEN"
          " CREATE ROLE game_owner LOGIN; END IF; END $$");
  const std::string name = QueryOne(admin, "SELECT current_database()");
  ExecSql(admin, "ALTER DATABASE " + name + " OWNER TO game_owner");
  ExecSql(admin, "CREATE EXTENSION pg_trgm");
  std::string target = admin;
  target.replace(target.find("holomush@"), 9, "game_owner@");
  ASSERT_EQ(QueryOne(target, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user"), "f");

  auto restore = Holomush({"backup", "restore", file}, {{"DATABASE_URL", target}});
  ASSERT_EQ(restore.code, 0) << restore.output;
  EXPECT_EQ(QueryOne(target, "SELECT count(*) FROM system_info WHERE key LIKE 'k%'"), "2000");
  // The source had query statistics (made by `migrate up` as superuser); only a superuser
  // may make them here, so the restore says it goes on without them.
  EXPECT_EQ(
      QueryOne(url_, "SELECT count(*) FROM pg_extension WHERE extname = 'pg_stat_statements'"),
      "1");
  EXPECT_EQ(JsonField(restore.output, "optional extension not created; the game runs without it",
                      "extension"),
            "pg_stat_statements");
  EXPECT_EQ(
      QueryOne(target, "SELECT count(*) FROM pg_extension WHERE extname = 'pg_stat_statements'"),
      "0");
  EXPECT_EQ(QueryOne(admin,
                     "SELECT r.rolname FROM pg_extension e JOIN pg_roles r ON r.oid = e.extowner"
                     " WHERE e.extname = 'pg_trgm'"),
            "holomush");
}

TEST_F(BackupFileTest, RestoreReportsASchemaVersionThatDiffersFromTheManifest) {
  const std::string file = MakeBackup();
  auto manifest = nlohmann::json::parse(std::ifstream(file + ".json"));
  manifest["schema_version"] = 999;
  std::ofstream(file + ".json") << manifest.dump();
  auto out = Holomush({"backup", "restore", file}, {{"DATABASE_URL", FreshDatabase("bkv")}});
  EXPECT_EQ(out.code, 1) << out.output;
  EXPECT_NE(out.output.find("but the manifest records 999"), std::string::npos) << out.output;
}

// A directory that cannot be read (missing, or a file where the directory should be) is
// exit 1 naming it, never an empty list.
TEST_F(BackupFileTest, ListExitsOneNamingADirectoryItCannotRead) {
  const fs::path missing = dir_ / "nowhere";
  auto out = Holomush({"backup", "list", "--dir", missing.string(), "--json"});
  EXPECT_EQ(out.code, 1) << out.output;
  EXPECT_NE(out.output.find("cannot read backup directory " + missing.string()), std::string::npos)
      << out.output;
  const fs::path file = dir_ / "not-a-directory";
  std::ofstream(file) << "x";
  out = Holomush({"backup", "list", "--dir", file.string()});
  EXPECT_EQ(out.code, 1) << out.output;
  EXPECT_NE(out.output.find("cannot read backup directory " + file.string()), std::string::npos)
      << out.output;
}

TEST_F(BackupFileTest, UsageErrorsExitTwo) {
  EXPECT_EQ(Holomush({"backup", "run"}, env_).code, 2);
  EXPECT_EQ(Holomush({"backup", "run", "--dir", dir_.string(), "--max-age", "soon"}, env_).code, 2);
  EXPECT_EQ(Holomush({"backup", "restore"}, env_).code, 2);
  EXPECT_EQ(Holomush({"backup", "run", "--dir", dir_.string()}, {{"DATABASE_URL", ""}}).code, 2);
}

}  // namespace
}  // namespace holomush::testing
