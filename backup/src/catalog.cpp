#include "catalog.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <ostream>
#include <sstream>
#include <stdexcept>

#include "files.hpp"

namespace holomush::backup {
namespace {

namespace fs = std::filesystem;
using common::ErrorKind;
using common::MakeError;

constexpr const char* kNamePrefix = "holomush-";
constexpr const char* kNameSuffix = ".dump";

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool StartsWith(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

std::tm UtcParts(TimePoint t) {
  const std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return tm;
}

std::string HumanSize(std::int64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  std::ostringstream out;
  if (u == 0) {
    out << bytes << " B";
  } else {
    out << std::fixed << std::setprecision(1) << v << ' ' << units[u];
  }
  return out.str();
}

}  // namespace

std::string ManifestToJson(const Manifest& m) {
  nlohmann::ordered_json j;
  j["format"] = kManifestFormat;
  j["file"] = m.file;
  j["created_at"] = m.created_at;
  j["size_bytes"] = m.size_bytes;
  j["duration_seconds"] = m.duration_seconds;
  j["sha256"] = m.sha256;
  j["database"] = m.database;
  j["server_version"] = m.server_version;
  j["server_version_num"] = m.server_version_num;
  j["schema_version"] = m.schema_version;
  j["holomush_version"] = m.holomush_version;
  j["pg_dump_version"] = m.pg_dump_version;
  j["toc_entries"] = m.toc_entries;
  j["verified"] = m.verified;
  j["verified_at"] = m.verified_at;
  return j.dump(2) + "\n";
}

common::Result<Manifest> ParseManifest(const std::string& text) {
  try {
    auto j = nlohmann::json::parse(text);
    if (j.value("format", "") != kManifestFormat) {
      return MakeError(ErrorKind::kInvalid,
                       "not a HoloMUSH backup manifest (format \"" + j.value("format", "") + "\")");
    }
    Manifest m;
    m.file = j.at("file").get<std::string>();
    m.created_at = j.at("created_at").get<std::string>();
    m.size_bytes = j.at("size_bytes").get<std::int64_t>();
    m.duration_seconds = j.value("duration_seconds", 0.0);
    m.sha256 = j.at("sha256").get<std::string>();
    m.database = j.value("database", "");
    m.server_version = j.value("server_version", "");
    m.server_version_num = j.value("server_version_num", 0);
    m.schema_version = j.at("schema_version").get<int>();
    m.holomush_version = j.value("holomush_version", "");
    m.pg_dump_version = j.value("pg_dump_version", "");
    m.toc_entries = j.value("toc_entries", 0);
    m.verified = j.value("verified", false);
    m.verified_at = j.value("verified_at", "");
    return m;
  } catch (const nlohmann::json::exception& e) {
    return MakeError(ErrorKind::kInvalid, std::string("manifest is not valid: ") + e.what());
  }
}

common::Result<Manifest> ReadManifestFor(const std::string& dump_path) {
  auto text = ReadSmallFile(dump_path + kManifestSuffix);
  if (!text) return text.error();
  auto m = ParseManifest(*text);
  if (!m) return MakeError(m.error().kind, dump_path + kManifestSuffix + ": " + m.error().message);
  return m;
}

common::Result<std::string> ReadChecksumFor(const std::string& dump_path) {
  auto text = ReadSmallFile(dump_path + kChecksumSuffix);
  if (!text) return text.error();
  std::string hex = text->substr(0, text->find_first_of(" \t\n"));
  if (hex.size() != 64 || hex.find_first_not_of("0123456789abcdef") != std::string::npos) {
    return MakeError(ErrorKind::kInvalid,
                     dump_path + kChecksumSuffix + " does not hold a SHA-256 digest");
  }
  return hex;
}

std::string ChecksumLine(const std::string& sha256, const std::string& file_name) {
  return sha256 + "  " + file_name + "\n";
}

std::string CompactStamp(TimePoint t) {
  std::tm tm = UtcParts(t);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

std::string IsoTime(TimePoint t) {
  std::tm tm = UtcParts(t);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count() % 1000;
  char out[48];
  std::snprintf(out, sizeof out, "%s.%03dZ", buf, static_cast<int>(ms));
  return out;
}

std::optional<TimePoint> ParseIsoTime(const std::string& text) {
  std::tm tm{};
  int ms = 0;
  char z = 0;
  int consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3d%c%n", &tm.tm_year, &tm.tm_mon,
                  &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms, &z, &consumed) != 8 ||
      z != 'Z' || static_cast<size_t>(consumed) != text.size()) {
    return std::nullopt;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  const std::time_t secs = timegm(&tm);
  if (secs == static_cast<std::time_t>(-1)) return std::nullopt;
  return std::chrono::system_clock::from_time_t(secs) + std::chrono::milliseconds(ms);
}

bool IsBackupName(const std::string& file_name) {
  return StartsWith(file_name, kNamePrefix) && EndsWith(file_name, kNameSuffix) &&
         file_name.size() > std::string(kNamePrefix).size() + std::string(kNameSuffix).size();
}

std::string FreeBackupName(const std::string& dir, TimePoint t) {
  const std::string base = kNamePrefix + CompactStamp(t);
  std::string name = base + kNameSuffix;
  for (int k = 2;
       fs::exists(fs::path(dir) / name) || fs::exists(fs::path(dir) / (name + kManifestSuffix));
       ++k) {
    name = base + "-" + std::to_string(k) + kNameSuffix;
  }
  return name;
}

std::vector<std::string> RemoveLeftovers(const std::string& dir) {
  std::vector<std::string> removed;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    bool leftover = false;
    if (StartsWith(name, kPartialPrefix) && EndsWith(name, kPartialSuffix)) leftover = true;
    for (const char* suffix : {kChecksumSuffix, kManifestSuffix}) {
      if (!EndsWith(name, suffix)) continue;
      const std::string archive = name.substr(0, name.size() - std::string(suffix).size());
      if (IsBackupName(archive) && !fs::exists(fs::path(dir) / archive)) leftover = true;
    }
    if (leftover && RemoveIfExists(entry.path().string())) removed.push_back(name);
  }
  std::sort(removed.begin(), removed.end());
  return removed;
}

std::vector<BackupInfo> ListBackups(const std::string& dir) {
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec) throw std::runtime_error("cannot read backup directory " + dir + ": " + ec.message());
  std::vector<BackupInfo> out;
  for (const auto& entry : it) {
    const std::string name = entry.path().filename().string();
    if (!IsBackupName(name) || !entry.is_regular_file()) continue;
    BackupInfo info;
    info.name = name;
    info.path = entry.path().string();
    struct stat st {};
    if (::stat(info.path.c_str(), &st) != 0) continue;  // removed meanwhile
    info.size_bytes = st.st_size;
    info.created_at = IsoTime(std::chrono::system_clock::from_time_t(st.st_mtime));
    if (auto m = ReadManifestFor(info.path)) {
      info.created_at = m->created_at;
      info.schema_version = m->schema_version;
      info.sha256 = m->sha256;
      // A manifest describes one exact file: a different size means it is not that file.
      info.verified = m->verified && m->size_bytes == info.size_bytes && m->file == name;
    }
    out.push_back(std::move(info));
  }
  std::sort(out.begin(), out.end(), [](const BackupInfo& a, const BackupInfo& b) {
    auto ta = ParseIsoTime(a.created_at);
    auto tb = ParseIsoTime(b.created_at);
    if (ta && tb && *ta != *tb) return *ta < *tb;
    return a.name < b.name;
  });
  return out;
}

int PrintBackupList(const std::string& dir, bool json, std::ostream& out, std::ostream& err) {
  std::vector<BackupInfo> backups;
  try {
    backups = ListBackups(dir);
  } catch (const std::exception& e) {
    err << "holomush backup list: " << e.what() << "\n";
    return kExitFailed;
  }
  if (json) {
    nlohmann::ordered_json arr = nlohmann::ordered_json::array();
    for (const auto& b : backups) {
      nlohmann::ordered_json j;
      j["file"] = b.name;
      j["path"] = b.path;
      j["created_at"] = b.created_at;
      j["size_bytes"] = b.size_bytes;
      j["schema_version"] = b.schema_version ? nlohmann::ordered_json(*b.schema_version)
                                             : nlohmann::ordered_json(nullptr);
      j["verified"] = b.verified;
      j["sha256"] = b.sha256;
      arr.push_back(j);
    }
    out << arr.dump(2) << "\n";
    return kExitOk;
  }
  if (backups.empty()) {
    out << "no backups in " << dir << "\n";
    return kExitOk;
  }
  size_t name_width = 4;
  for (const auto& b : backups) name_width = std::max(name_width, b.name.size());
  auto row = [&](const std::string& name, const std::string& time, const std::string& size,
                 const std::string& schema, const std::string& verified) {
    out << std::left << std::setw(static_cast<int>(name_width) + 2) << name << std::setw(26) << time
        << std::setw(12) << size << std::setw(8) << schema << verified << "\n";
  };
  row("FILE", "TIME", "SIZE", "SCHEMA", "VERIFIED");
  for (const auto& b : backups) {
    row(b.name, b.created_at, HumanSize(b.size_bytes),
        b.schema_version ? std::to_string(*b.schema_version) : "-", b.verified ? "yes" : "no");
  }
  return kExitOk;
}

std::vector<std::string> ChooseExpired(const std::vector<BackupInfo>& backups,
                                       const std::string& just_made, const RetentionPolicy& policy,
                                       TimePoint now) {
  struct Candidate {
    std::string name;
    TimePoint created;
  };
  std::vector<Candidate> verified;
  for (const auto& b : backups) {
    if (!b.verified) continue;
    auto t = ParseIsoTime(b.created_at);
    if (!t) continue;  // a manifest we cannot date is left alone
    verified.push_back({b.name, *t});
  }
  std::sort(verified.begin(), verified.end(), [](const Candidate& a, const Candidate& b) {
    if (a.created != b.created) return a.created > b.created;
    return a.name > b.name;
  });
  std::vector<std::string> expired;
  for (size_t i = 0; i < verified.size(); ++i) {
    const auto& c = verified[i];
    if (c.name == just_made) continue;
    const bool beyond_count = policy.keep_last > 0 && i >= static_cast<size_t>(policy.keep_last);
    const bool too_old = policy.max_age.count() > 0 && now - c.created > policy.max_age;
    if (beyond_count || too_old) expired.push_back(c.name);
  }
  return expired;
}

std::optional<std::chrono::milliseconds> ParseAge(const std::string& text) {
  if (text.empty()) return std::nullopt;
  size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  if (digits == 0 || digits > 12) return std::nullopt;
  const long long n = std::stoll(text.substr(0, digits));
  const std::string unit = text.substr(digits);
  using std::chrono::milliseconds;
  if (unit == "ms") return milliseconds(n);
  if (unit.empty() || unit == "s") return milliseconds(n * 1000);
  if (unit == "m") return milliseconds(n * 60 * 1000);
  if (unit == "h") return milliseconds(n * 3600 * 1000);
  if (unit == "d") return milliseconds(n * 86400 * 1000);
  if (unit == "w") return milliseconds(n * 7 * 86400 * 1000);
  return std::nullopt;
}

}  // namespace holomush::backup
