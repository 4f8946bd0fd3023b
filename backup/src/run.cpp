// `holomush backup run`: dump, sync, verify, checksum, manifest, rename, then retention.
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "archive.hpp"
#include "catalog.hpp"
#include "conninfo.hpp"
#include "database.hpp"
#include "files.hpp"
#include "holomush/backup/backup.hpp"
#include "holomush/common/version.hpp"
#include "process.hpp"

namespace holomush::backup {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Files this run has written but not yet committed; removed on every path that does not reach
// Commit(), so a failed run leaves nothing that looks like a backup.
class Uncommitted {
 public:
  explicit Uncommitted(std::string dir) : dir_(std::move(dir)) {}
  ~Uncommitted() {
    if (committed_) return;
    bool removed = false;
    for (const auto& p : paths_) removed = RemoveIfExists(p) || removed;
    if (removed) (void)FsyncDirectory(dir_);
  }
  Uncommitted(const Uncommitted&) = delete;
  Uncommitted& operator=(const Uncommitted&) = delete;
  void Add(const std::string& path) { paths_.push_back(path); }
  void Commit() { committed_ = true; }

 private:
  std::string dir_;
  std::vector<std::string> paths_;
  bool committed_ = false;
};

int MajorVersion(const std::string& tool_version) {
  // "pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)"
  auto pos = tool_version.find(") ");
  if (pos == std::string::npos) return 0;
  try {
    return std::stoi(tool_version.substr(pos + 2));
  } catch (...) {
    return 0;
  }
}

std::string Trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// The summary: logged, and written to --status-file for readers without the logs (Kubernetes
// keeps at most 4096 bytes of a termination message, so a long error is cut).
int Finish(const RunOptions& options, const common::Logger& log, common::LogLevel level,
           const std::string& msg, const common::LogFields& fields, int code) {
  log.Log(level, msg, fields);
  if (options.status_file.empty()) return code;
  nlohmann::ordered_json status;
  status["msg"] = msg;
  status["exit_code"] = code;
  for (const auto& [key, value] : fields) {
    const bool long_text = value.is_string() && value.get<std::string>().size() > 1500;
    status[key] = long_text
                      ? nlohmann::ordered_json(value.get<std::string>().substr(0, 1500) + "...")
                      : nlohmann::ordered_json(value);
  }
  std::ofstream out(options.status_file, std::ios::trunc);
  out << status.dump() << "\n";
  out.flush();
  if (!out) log.Warn("cannot write the status file", {{"file", options.status_file}});
  return code;
}

}  // namespace

int RunBackup(const RunOptions& options, const common::Logger& log) {
  const auto started = Clock::now();
  // Archives hold password hashes: readable by this user only.
  ::umask(077);
  InstallStopHandlers();
  const std::string& dir = options.dir;

  std::string step = "prepare";
  auto fail = [&](const std::string& error) {
    return Finish(options, log, common::LogLevel::kError, "backup failed",
                  {{"step", step},
                   {"error", error},
                   {"dir", dir},
                   {"duration_seconds", SecondsSince(started)}},
                  kExitFailed);
  };
  auto interrupted = [&] { return StopRequested(); };

  auto conn = ParseConnection(options.database_url);
  if (!conn) {
    return Finish(options, log, common::LogLevel::kError, "backup failed",
                  {{"step", step}, {"error", conn.error().message}}, kExitUsage);
  }
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return fail("cannot create " + dir + ": " + ec.message());

  step = "lock";
  auto lock = DirectoryLock::Acquire(dir);
  if (!lock) {
    if (lock.error().kind == common::ErrorKind::kConflict) {
      return Finish(options, log, common::LogLevel::kError,
                    "backup refused: another run is in progress",
                    {{"step", step}, {"error", lock.error().message}, {"dir", dir}}, kExitLocked);
    }
    return fail(lock.error().message);
  }
  log.Info("lock acquired", {{"dir", dir}});
  if (auto leftovers = RemoveLeftovers(dir); !leftovers.empty()) {
    log.Warn("removed leftovers of an interrupted run", {{"files", leftovers}});
  }

  step = "snapshot";
  auto session = SnapshotSession::Open(options.database_url);
  if (!session) return fail("cannot read " + conn->description + ": " + session.error().message);
  const SourceInfo source = (*session)->info();
  const auto created_at = std::chrono::system_clock::now();
  log.Info("snapshot taken", {{"database", conn->description},
                              {"server_version", source.server_version},
                              {"schema_version", source.schema_version}});
  const int server_major = source.server_version_num / 10000;

  // The client tools for that server: of the installed versions, the oldest that is not
  // older than the server (pg_dump refuses newer servers).
  step = "tools";
  auto pg_dump = FindTool("pg_dump", options.tools.pg_dump, server_major);
  if (!pg_dump) return fail(pg_dump.error().message);
  auto pg_restore = FindTool("pg_restore", options.tools.pg_restore, server_major);
  if (!pg_restore) return fail(pg_restore.error().message);
  auto version = RunProcess({*pg_dump, "--version"});
  if (!version) return fail(version.error().message);
  if (!version->ok()) return fail(*pg_dump + " --version " + version->Describe());
  const std::string pg_dump_version = Trimmed(version->out);
  const int tool_major = MajorVersion(pg_dump_version);
  if (tool_major != 0 && tool_major < server_major) {
    return fail(pg_dump_version + " cannot dump a PostgreSQL " + std::to_string(server_major) +
                " server; install that client or newer, or point --pg-dump at it");
  }
  if (interrupted()) return fail("interrupted by a signal");

  step = "dump";
  Uncommitted uncommitted(dir);
  const std::string stamp = CompactStamp(created_at);
  const std::string partial = (fs::path(dir) / (kPartialPrefix + stamp + ".dump")).string();
  const std::string partial_dump = partial + kPartialSuffix;
  const std::string partial_sum = partial + kChecksumSuffix + kPartialSuffix;
  const std::string partial_manifest = partial + kManifestSuffix + kPartialSuffix;
  uncommitted.Add(partial_dump);
  uncommitted.Add(partial_sum);
  uncommitted.Add(partial_manifest);
  const auto dump_started = Clock::now();
  auto dump = RunProcess(
      {*pg_dump, "--format=custom", "--file=" + partial_dump, "--snapshot=" + source.snapshot,
       "--lock-wait-timeout=120000", "--dbname=" + conn->conninfo},
      conn->ChildEnvironment());
  const double dump_seconds = SecondsSince(dump_started);
  session->reset();
  if (!dump) return fail(dump.error().message);
  if (!dump->ok()) {
    return fail("pg_dump " + dump->Describe() + ": " + Redact(dump->ErrorTail(), conn->password));
  }
  struct stat st {};
  if (::stat(partial_dump.c_str(), &st) != 0) return fail("pg_dump wrote no file");
  log.Info("dump written", {{"file", partial_dump},
                            {"size_bytes", static_cast<std::int64_t>(st.st_size)},
                            {"duration_seconds", dump_seconds}});

  step = "sync";
  if (auto s = FsyncFile(partial_dump); !s) return fail(s.error().message);
  log.Info("dump synced", {{"file", partial_dump}});
  if (interrupted()) return fail("interrupted by a signal");

  step = "verify";
  auto archive = CheckArchive(partial_dump, *pg_restore);
  if (!archive) return fail(archive.error().message);
  const std::string verified_at = IsoTime(std::chrono::system_clock::now());
  log.Info("archive verified",
           {{"toc_entries", archive->toc_entries}, {"tables", archive->tables.size()}});
  if (interrupted()) return fail("interrupted by a signal");

  step = "checksum";
  auto sha = Sha256OfFile(partial_dump);
  if (!sha) return fail(sha.error().message);
  log.Info("checksum computed", {{"sha256", *sha}});

  step = "manifest";
  const std::string name = FreeBackupName(dir, created_at);
  const std::string final_dump = (fs::path(dir) / name).string();
  Manifest manifest{.file = name,
                    .created_at = IsoTime(created_at),
                    .size_bytes = st.st_size,
                    .duration_seconds = dump_seconds,
                    .sha256 = *sha,
                    .database = source.database,
                    .server_version = source.server_version,
                    .server_version_num = source.server_version_num,
                    .schema_version = source.schema_version,
                    .holomush_version = common::kVersion,
                    .pg_dump_version = pg_dump_version,
                    .toc_entries = archive->toc_entries,
                    .verified = true,
                    .verified_at = verified_at};
  if (auto s = WriteFileSynced(partial_sum, ChecksumLine(*sha, name)); !s) {
    return fail(s.error().message);
  }
  if (auto s = WriteFileSynced(partial_manifest, ManifestToJson(manifest)); !s) {
    return fail(s.error().message);
  }
  log.Info("manifest written", {{"file", partial_manifest}});
  if (interrupted()) return fail("interrupted by a signal");

  // The archive's own name is the commit point: its sidecars go first, so a crash in between
  // leaves only sidecars without an archive, which the next run removes.
  step = "rename";
  for (const auto& [from, suffix] :
       {std::pair{partial_sum, kChecksumSuffix}, std::pair{partial_manifest, kManifestSuffix}}) {
    uncommitted.Add(final_dump + suffix);
    if (auto s = RenameFile(from, final_dump + suffix); !s) return fail(s.error().message);
  }
  if (auto s = RenameFile(partial_dump, final_dump); !s) return fail(s.error().message);
  if (auto s = FsyncDirectory(dir); !s) {
    uncommitted.Add(final_dump);
    return fail(s.error().message);
  }
  uncommitted.Commit();
  log.Info("backup in place", {{"file", final_dump}});

  // A backup that is made and verified succeeds even if retention fails: the run's purpose is
  // met, and the failure is logged at error level for whoever watches the disk.
  step = "retention";
  std::vector<std::string> removed;
  if (options.keep_last > 0 || options.max_age.count() > 0) {
    try {
      const auto expired =
          ChooseExpired(ListBackups(dir), name, {options.keep_last, options.max_age},
                        std::chrono::system_clock::now());
      for (const auto& old : expired) {
        const std::string path = (fs::path(dir) / old).string();
        // The archive first: a crash midway leaves sidecars, which the next run removes.
        if (!RemoveIfExists(path)) {
          log.Error("retention cannot remove a backup",
                    {{"file", path}, {"error", std::strerror(errno)}});
          continue;
        }
        RemoveIfExists(path + kChecksumSuffix);
        RemoveIfExists(path + kManifestSuffix);
        removed.push_back(old);
      }
      if (!removed.empty()) (void)FsyncDirectory(dir);
      log.Info("retention applied", {{"removed", removed},
                                     {"keep_last", options.keep_last},
                                     {"max_age_seconds", options.max_age.count() / 1000}});
    } catch (const std::exception& e) {
      log.Error("retention failed", {{"error", e.what()}});
    }
  } else {
    log.Info("retention not configured: nothing removed");
  }

  return Finish(options, log, common::LogLevel::kInfo, "backup complete",
                {{"file", final_dump},
                 {"created_at", manifest.created_at},
                 {"size_bytes", static_cast<std::int64_t>(st.st_size)},
                 {"sha256", *sha},
                 {"schema_version", source.schema_version},
                 {"server_version", source.server_version},
                 {"removed", removed.size()},
                 {"duration_seconds", SecondsSince(started)}},
                kExitOk);
}

}  // namespace holomush::backup
