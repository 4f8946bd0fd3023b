#include "archive.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <sstream>

#include "files.hpp"
#include "process.hpp"

namespace holomush::backup {
namespace {

using common::ErrorKind;
using common::MakeError;

std::vector<std::string> Words(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> words;
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

}  // namespace

common::Result<ArchiveCheck> CheckArchive(const std::string& path, const std::string& pg_restore) {
  auto list = RunProcess({pg_restore, "--list", path});
  if (!list) return list.error();
  if (!list->ok()) {
    return MakeError(ErrorKind::kInvalid,
                     "pg_restore --list " + list->Describe() + ": " + list->ErrorTail());
  }
  ArchiveCheck check;
  check.toc = list->out;
  std::istringstream lines(list->out);
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] == ';') continue;
    ++check.toc_entries;
    // "215; 1259 16466 TABLE public events holomush"
    auto w = Words(line);
    if (w.size() >= 6 && w[3] == "TABLE" && w[4] != "DATA")
      check.tables.push_back(w[4] + "." + w[5]);
  }
  if (check.toc_entries == 0) {
    return MakeError(ErrorKind::kInvalid, "the archive's table of contents is empty");
  }
  auto full = RunProcess({pg_restore, "--file=/dev/null", path});
  if (!full) return full.error();
  if (!full->ok()) {
    return MakeError(ErrorKind::kInvalid, "reading every block with pg_restore " +
                                              full->Describe() + ": " + full->ErrorTail());
  }
  return check;
}

common::Result<VerifiedBackup> VerifyFile(const std::string& path, const std::string& pg_restore,
                                          bool allow_missing_checksum, const common::Logger& log) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return MakeError(ErrorKind::kNotFound, path + " is not a readable file");
  }
  VerifiedBackup result;
  const std::string name = std::filesystem::path(path).filename().string();

  auto manifest = ReadManifestFor(path);
  if (manifest) {
    result.manifest = *manifest;
  } else if (manifest.error().kind != ErrorKind::kNotFound) {
    return manifest.error();
  }
  auto expected = ReadChecksumFor(path);
  if (!expected && expected.error().kind != ErrorKind::kNotFound) return expected.error();
  if (!expected && !allow_missing_checksum) {
    return MakeError(ErrorKind::kInvalid, "no checksum file " + name + kChecksumSuffix +
                                              " beside it: the archive cannot be verified");
  }

  auto actual = Sha256OfFile(path);
  if (!actual) return actual.error();
  result.sha256 = *actual;
  if (expected) {
    if (*expected != *actual) {
      return MakeError(ErrorKind::kInvalid, "checksum mismatch: " + name + kChecksumSuffix +
                                                " says " + *expected + ", the file has " + *actual);
    }
    if (result.manifest && result.manifest->sha256 != *actual) {
      return MakeError(ErrorKind::kInvalid, "checksum mismatch: the manifest says " +
                                                result.manifest->sha256 + ", the file has " +
                                                *actual);
    }
    if (result.manifest && result.manifest->size_bytes != st.st_size) {
      return MakeError(ErrorKind::kInvalid, "size mismatch: the manifest says " +
                                                std::to_string(result.manifest->size_bytes) +
                                                " bytes, the file has " +
                                                std::to_string(st.st_size));
    }
    log.Info("checksum matches", {{"file", path}, {"sha256", *actual}});
  } else {
    log.Warn("no checksum beside the archive; checking only that it reads",
             {{"file", path}, {"sha256", *actual}});
  }

  auto archive = CheckArchive(path, pg_restore);
  if (!archive) return archive.error();
  result.archive = std::move(*archive);
  log.Info("archive reads completely", {{"file", path},
                                        {"toc_entries", result.archive.toc_entries},
                                        {"tables", result.archive.tables.size()}});
  return result;
}

namespace {

bool IsOptionalExtension(const std::string& name) {
  return std::find(std::begin(kOptionalExtensions), std::end(kOptionalExtensions), name) !=
         std::end(kOptionalExtensions);
}

// "<id>; <oid> <oid> EXTENSION - <name>": the entry that creates extension <name>.
std::optional<std::string> CreatedExtension(const std::string& line,
                                            const std::vector<std::string>& w) {
  if (line.empty() || line[0] == ';' || w.size() < 6 || w[3] != "EXTENSION" || w[4] != "-") {
    return std::nullopt;
  }
  return w[5];
}

}  // namespace

std::string RestoreList(const std::string& toc) {
  std::istringstream lines(toc);
  std::string out;
  for (std::string line; std::getline(lines, line);) {
    auto w = Words(line);
    const bool comment_on_extension = !line.empty() && line[0] != ';' && w.size() >= 6 &&
                                      w[3] == "COMMENT" && w[4] == "-" && w[5] == "EXTENSION";
    const auto created = CreatedExtension(line, w);
    if (comment_on_extension || (created && IsOptionalExtension(*created))) out += ';';
    out += line + "\n";
  }
  return out;
}

std::vector<std::string> OptionalExtensionsIn(const std::string& toc) {
  std::istringstream lines(toc);
  std::vector<std::string> out;
  for (std::string line; std::getline(lines, line);) {
    const auto created = CreatedExtension(line, Words(line));
    if (created && IsOptionalExtension(*created)) out.push_back(*created);
  }
  return out;
}

}  // namespace holomush::backup
