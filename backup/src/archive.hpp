// Reading a pg_dump archive through pg_restore: its table of contents and every data block.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "catalog.hpp"
#include "holomush/common/logging.hpp"
#include "holomush/common/result.hpp"

namespace holomush::backup {

struct ArchiveCheck {
  int toc_entries = 0;
  std::vector<std::string> tables;  // "schema.table"
  std::string toc;                  // pg_restore --list output
};

// `pg_restore --list` reads only the table of contents, which a truncated or corrupted archive
// still has; `pg_restore --file=/dev/null` then reads and decompresses every data block.
// Both must succeed.
common::Result<ArchiveCheck> CheckArchive(const std::string& path, const std::string& pg_restore);

struct VerifiedBackup {
  std::optional<Manifest> manifest;
  std::string sha256;
  ArchiveCheck archive;
};

// The whole check of a backup file: its digest against NAME.sha256 and the manifest, then
// CheckArchive. Without NAME.sha256 it fails, unless `allow_missing_checksum` (then only the
// archive is checked, with a warning). Logs one line per step.
common::Result<VerifiedBackup> VerifyFile(const std::string& path, const std::string& pg_restore,
                                          bool allow_missing_checksum, const common::Logger& log);

// Extensions a game may have but never needs (query statistics): a restore creates them only
// where the target allows it, since only a superuser may create them.
inline constexpr const char* kOptionalExtensions[] = {"pg_stat_statements"};

// The --use-list for pg_restore: `toc` with comments on extensions and the optional extensions
// commented out, since only an extension's owner may comment on it and a database whose
// extensions a DBA created must still restore.
std::string RestoreList(const std::string& toc);
// The optional extensions `toc` creates, in kOptionalExtensions order.
std::vector<std::string> OptionalExtensionsIn(const std::string& toc);

}  // namespace holomush::backup
