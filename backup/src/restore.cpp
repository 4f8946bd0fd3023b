// `holomush backup verify` and `holomush backup restore`.
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "archive.hpp"
#include "conninfo.hpp"
#include "database.hpp"
#include "files.hpp"
#include "holomush/backup/backup.hpp"
#include "process.hpp"

namespace holomush::backup {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// A private temporary file, removed when this goes out of scope.
class TempFile {
 public:
  TempFile() = default;
  ~TempFile() {
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  common::Status Write(const std::string& content) {
    std::string templ =
        (std::filesystem::temp_directory_path() / "holomush-restore-XXXXXX.list").string();
    int fd = ::mkstemps(templ.data(), 5);
    if (fd < 0) {
      return common::MakeError(
          common::ErrorKind::kInternal,
          "cannot create a temporary file in " + std::filesystem::temp_directory_path().string());
    }
    ::close(fd);
    path_ = templ;
    return WriteFileSynced(path_, content);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace

int VerifyBackup(const std::string& file, const Tools& tools, const common::Logger& log) {
  InstallStopHandlers();
  auto fail = [&](const std::string& error) {
    log.Error("verify failed", {{"file", file}, {"error", error}});
    return kExitFailed;
  };
  auto pg_restore = FindTool("pg_restore", tools.pg_restore);
  if (!pg_restore) return fail(pg_restore.error().message);
  auto verified = VerifyFile(file, *pg_restore, false, log);
  if (!verified) return fail(verified.error().message);
  common::LogFields fields = {
      {"file", file}, {"sha256", verified->sha256}, {"toc_entries", verified->archive.toc_entries}};
  if (verified->manifest) {
    fields.emplace_back("created_at", verified->manifest->created_at);
    fields.emplace_back("schema_version", verified->manifest->schema_version);
  }
  log.Info("backup verified", fields);
  return kExitOk;
}

int RestoreBackup(const RestoreOptions& options, const common::Logger& log) {
  const auto started = Clock::now();
  InstallStopHandlers();
  std::string step = "prepare";
  auto fail = [&](const std::string& error) {
    log.Error("restore failed", {{"step", step},
                                 {"file", options.file},
                                 {"error", error},
                                 {"duration_seconds", SecondsSince(started)}});
    return kExitFailed;
  };

  auto pg_restore = FindTool("pg_restore", options.tools.pg_restore);
  if (!pg_restore) return fail(pg_restore.error().message);
  auto conn = ParseConnection(options.database_url);
  if (!conn) {
    fail(conn.error().message);
    return kExitUsage;
  }

  // Nothing in the target is touched before the archive is known to be whole.
  step = "verify";
  auto verified = VerifyFile(options.file, *pg_restore, true, log);
  if (!verified) return fail(verified.error().message);
  if (!verified->manifest) {
    log.Warn("no manifest beside the archive: the restored schema version cannot be checked",
             {{"file", options.file}});
  }
  if (StopRequested()) return fail("interrupted by a signal");

  step = "target";
  auto tables = ListUserTables(options.database_url);
  if (!tables) return fail("cannot read " + conn->description + ": " + tables.error().message);
  if (!tables->empty() && !options.force) {
    const std::vector<std::string> some(
        tables->begin(),
        tables->begin() + static_cast<std::ptrdiff_t>(std::min<size_t>(tables->size(), 5)));
    log.Error(
        "restore refused: the target database is not empty",
        {{"step", step},
         {"database", conn->description},
         {"tables", tables->size()},
         {"examples", some},
         {"hint", "restore into an empty database, or pass --force to replace its contents"}});
    return kExitFailed;
  }
  if (!tables->empty()) {
    // --clean drops what the archive holds; tables it does not hold (a newer schema's) would
    // survive next to the restored ones, so they go first.
    const std::set<std::string> in_archive(verified->archive.tables.begin(),
                                           verified->archive.tables.end());
    std::vector<std::string> extra;
    for (const auto& t : *tables) {
      if (in_archive.count(t) == 0) extra.push_back(t);
    }
    if (!extra.empty()) {
      if (auto s = DropTables(options.database_url, extra); !s) return fail(s.error().message);
      log.Warn("dropped tables the backup does not have", {{"tables", extra}});
    }
  }
  log.Info("target checked", {{"database", conn->description},
                              {"tables_before", tables->size()},
                              {"force", options.force}});

  step = "restore";
  TempFile list;
  if (auto s = list.Write(RestoreList(verified->archive.toc)); !s) return fail(s.error().message);
  std::vector<std::string> argv = {*pg_restore, "--no-owner", "--no-privileges",
                                   "--single-transaction", "--use-list=" + list.path()};
  if (!tables->empty()) {  // only with --force, checked above
    argv.emplace_back("--clean");
    argv.emplace_back("--if-exists");
  }
  argv.push_back("--dbname=" + conn->conninfo);
  argv.push_back(options.file);
  const auto restore_started = Clock::now();
  auto restored = RunProcess(argv, conn->ChildEnvironment());
  if (!restored) return fail(restored.error().message);
  if (!restored->ok()) {
    // One transaction: a failed restore left the target as it was (after any dropped tables).
    return fail("pg_restore " + restored->Describe() + ": " +
                Redact(restored->ErrorTail(), conn->password));
  }
  log.Info("archive restored",
           {{"database", conn->description}, {"duration_seconds", SecondsSince(restore_started)}});

  // Query statistics and the like: welcome, never required.
  for (const auto& name : OptionalExtensionsIn(verified->archive.toc)) {
    if (auto s = CreateExtension(options.database_url, name); !s) {
      log.Warn("optional extension not created; the game runs without it",
               {{"extension", name}, {"error", s.error().message}});
    }
  }

  step = "analyze";
  if (auto s = Analyze(options.database_url); !s) {
    log.Warn("ANALYZE after restore failed; autovacuum will gather statistics later",
             {{"error", s.error().message}});
  }

  step = "schema";
  auto version = ReadSchemaVersion(options.database_url);
  if (!version) return fail(version.error().message);
  common::LogFields summary = {{"file", options.file},
                               {"database", conn->description},
                               {"schema_version", *version},
                               {"tables", verified->archive.tables.size()},
                               {"duration_seconds", SecondsSince(started)}};
  if (verified->manifest) {
    if (verified->manifest->schema_version != *version) {
      return fail("the restored schema version is " + std::to_string(*version) +
                  " but the manifest records " +
                  std::to_string(verified->manifest->schema_version));
    }
    summary.emplace_back("manifest_schema_version", verified->manifest->schema_version);
    summary.emplace_back("backup_created_at", verified->manifest->created_at);
  }
  log.Info("restore complete", summary);
  return kExitOk;
}

}  // namespace holomush::backup
