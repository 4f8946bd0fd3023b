// Durable file operations for backups: fsync, atomic rename, checksums, the directory lock.
#pragma once

#include <memory>
#include <string>

#include "holomush/common/result.hpp"

namespace holomush::backup {

common::Status FsyncFile(const std::string& path);
common::Status FsyncDirectory(const std::string& dir);
// Writes `content` to `path` (created 0600, truncated), fsyncs and closes it; every error is
// reported (a full disk shows up here, at write, fsync or close) and the file removed.
common::Status WriteFileSynced(const std::string& path, const std::string& content);
// rename(2), which replaces `to` atomically; the caller fsyncs the directory afterwards.
common::Status RenameFile(const std::string& from, const std::string& to);
// Removes `path` if it exists; true when it did.
bool RemoveIfExists(const std::string& path);
common::Result<std::string> ReadSmallFile(const std::string& path);
// Lower-case hex SHA-256 of the file's bytes.
common::Result<std::string> Sha256OfFile(const std::string& path);

// An exclusive flock(2) on <dir>/.holomush-backup.lock, held until destroyed. The file is
// never removed: removing a lock file lets two holders lock two different files.
class DirectoryLock {
 public:
  // Conflict (naming the holder's pid when known) when another process holds it.
  static common::Result<std::unique_ptr<DirectoryLock>> Acquire(const std::string& dir);
  ~DirectoryLock();
  DirectoryLock(const DirectoryLock&) = delete;
  DirectoryLock& operator=(const DirectoryLock&) = delete;

 private:
  explicit DirectoryLock(int fd) : fd_(fd) {}
  int fd_;
};

inline constexpr const char* kLockFileName = ".holomush-backup.lock";

}  // namespace holomush::backup
