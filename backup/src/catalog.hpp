// What a backup directory holds: file names, manifests, listing and the retention choice.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "holomush/backup/backup.hpp"
#include "holomush/common/result.hpp"

namespace holomush::backup {

using TimePoint = std::chrono::system_clock::time_point;

// A complete backup is three files: NAME (the pg_dump archive), NAME.sha256 (sha256sum's
// format) and NAME.json (the manifest). NAME is holomush-YYYYMMDDTHHMMSSZ[-K].dump. Work in
// progress is hidden and suffixed: .holomush-backup-<stamp>.dump.partial (and its sidecars).
inline constexpr const char* kChecksumSuffix = ".sha256";
inline constexpr const char* kManifestSuffix = ".json";
inline constexpr const char* kPartialPrefix = ".holomush-backup-";
inline constexpr const char* kPartialSuffix = ".partial";
inline constexpr const char* kManifestFormat = "holomush-backup-manifest/1";

struct Manifest {
  std::string file;
  std::string created_at;  // ISO 8601 UTC with milliseconds: when the dump's snapshot was taken
  std::int64_t size_bytes = 0;
  double duration_seconds = 0;  // the dump
  std::string sha256;
  std::string database;
  std::string server_version;
  int server_version_num = 0;
  int schema_version = 0;
  std::string holomush_version;
  std::string pg_dump_version;
  int toc_entries = 0;
  bool verified = false;
  std::string verified_at;
};

std::string ManifestToJson(const Manifest& m);
common::Result<Manifest> ParseManifest(const std::string& text);
// The manifest beside `dump_path`; NotFound when there is none.
common::Result<Manifest> ReadManifestFor(const std::string& dump_path);
// The hex digest in `dump_path`.sha256 (the first word of its first line).
common::Result<std::string> ReadChecksumFor(const std::string& dump_path);
// sha256sum's line, so `sha256sum -c NAME.sha256` works in the directory.
std::string ChecksumLine(const std::string& sha256, const std::string& file_name);

// "20250102T030405Z".
std::string CompactStamp(TimePoint t);
// "2025-01-02T03:04:05.678Z".
std::string IsoTime(TimePoint t);
std::optional<TimePoint> ParseIsoTime(const std::string& text);

bool IsBackupName(const std::string& file_name);
// holomush-<stamp>.dump, or holomush-<stamp>-<k>.dump when that exists (two runs in one second).
std::string FreeBackupName(const std::string& dir, TimePoint t);

// Leftovers of runs that died: hidden .partial files and sidecars whose archive is gone.
// Removes them (the caller holds the lock) and returns their names.
std::vector<std::string> RemoveLeftovers(const std::string& dir);

struct RetentionPolicy {
  int keep_last = 0;                     // 0: no limit
  std::chrono::milliseconds max_age{0};  // 0: no limit
};

// Names of backups to delete: among `backups` only verified ones, newest first by created_at;
// one goes when it is beyond the newest `keep_last` or older than `max_age`. `just_made`
// counts towards keep_last but is never chosen.
std::vector<std::string> ChooseExpired(const std::vector<BackupInfo>& backups,
                                       const std::string& just_made, const RetentionPolicy& policy,
                                       TimePoint now);

}  // namespace holomush::backup
