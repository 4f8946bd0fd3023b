// `holomush backup run|list|verify|restore`: pg_dump archives that are known to restore.
#pragma once

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "holomush/common/logging.hpp"

namespace holomush::backup {

// Exit codes of every backup command (a CronJob reads only these).
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitLocked = 3;  // another `backup run` holds the directory's lock

// Where pg_dump and pg_restore come from. Empty: PATH, then the newest
// /usr/lib/postgresql/<N>/bin. A value without a slash is looked up on PATH.
struct Tools {
  std::string pg_dump;
  std::string pg_restore;
};

struct RunOptions {
  std::string database_url;  // also holds the password: never logged
  std::string dir;
  int keep_last = 0;                     // 0: no limit by count
  std::chrono::milliseconds max_age{0};  // 0: no limit by age
  Tools tools;
  // When set, the summary (outcome, exit code, file, size, error...) is also written here as
  // one JSON object, e.g. /dev/termination-log so a Job's pod carries it.
  std::string status_file;
};

struct RestoreOptions {
  std::string database_url;
  std::string file;
  bool force = false;  // replace what the target holds instead of refusing
  Tools tools;
};

// One backup in a directory, as `list` shows it.
struct BackupInfo {
  std::string name;  // holomush-20250102T030405Z.dump
  std::string path;
  std::string created_at;  // from the manifest; the file's mtime when there is none
  std::int64_t size_bytes = 0;
  std::optional<int> schema_version;
  bool verified = false;  // a manifest is beside it and says the run verified it
  std::string sha256;
};

// Each logs one line per step and a summary through `log`, and returns an exit code above.
int RunBackup(const RunOptions& options, const common::Logger& log);
int VerifyBackup(const std::string& file, const Tools& tools, const common::Logger& log);
int RestoreBackup(const RestoreOptions& options, const common::Logger& log);

// Complete backups in `dir`, oldest first; unfinished (.partial) files are not among them.
// Throws std::runtime_error when the directory cannot be read.
std::vector<BackupInfo> ListBackups(const std::string& dir);
// Prints ListBackups as a table (or a JSON array) to `out`; errors go to `err`.
int PrintBackupList(const std::string& dir, bool json, std::ostream& out, std::ostream& err);

// "30d", "12h", "90m", "2w", "45s", "500ms" or a bare number of seconds; nullopt otherwise.
std::optional<std::chrono::milliseconds> ParseAge(const std::string& text);

}  // namespace holomush::backup
