#include "catalog.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>

#include "archive.hpp"

namespace holomush::backup {
namespace {

namespace fs = std::filesystem;
using std::chrono::hours;
using std::chrono::milliseconds;

TimePoint At(const std::string& iso) { return *ParseIsoTime(iso); }

BackupInfo Verified(const std::string& name, const std::string& created_at) {
  return BackupInfo{.name = name, .created_at = created_at, .verified = true};
}

class RetentionTest : public ::testing::Test {
 protected:
  const TimePoint now_ = At("2025-03-10T12:00:00.000Z");
  std::vector<BackupInfo> backups_ = {
      Verified("holomush-a.dump", "2025-03-01T12:00:00.000Z"),
      Verified("holomush-b.dump", "2025-03-05T12:00:00.000Z"),
      Verified("holomush-c.dump", "2025-03-09T12:00:00.000Z"),
      Verified("holomush-d.dump", "2025-03-10T11:59:59.000Z"),
  };
};

TEST_F(RetentionTest, KeepLastRemovesTheOldestBeyondTheCount) {
  auto expired = ChooseExpired(backups_, "holomush-d.dump", {.keep_last = 2}, now_);
  EXPECT_EQ(expired, (std::vector<std::string>{"holomush-b.dump", "holomush-a.dump"}));
}

TEST_F(RetentionTest, MaxAgeRemovesOnlyOlderBackups) {
  auto expired =
      ChooseExpired(backups_, "holomush-d.dump", {.max_age = milliseconds(hours(24 * 3))}, now_);
  EXPECT_EQ(expired, (std::vector<std::string>{"holomush-b.dump", "holomush-a.dump"}));
}

TEST_F(RetentionTest, EitherLimitRemoves) {
  auto expired = ChooseExpired(backups_, "holomush-d.dump",
                               {.keep_last = 3, .max_age = milliseconds(hours(24 * 7))}, now_);
  EXPECT_EQ(expired, (std::vector<std::string>{"holomush-a.dump"}));
}

TEST_F(RetentionTest, NoPolicyRemovesNothing) {
  EXPECT_TRUE(ChooseExpired(backups_, "holomush-d.dump", {}, now_).empty());
}

TEST_F(RetentionTest, TheBackupJustMadeIsNeverRemoved) {
  // Even when its clock says it is older than the others, and older than max-age.
  backups_.push_back(Verified("holomush-new.dump", "2025-01-01T00:00:00.000Z"));
  auto expired = ChooseExpired(backups_, "holomush-new.dump",
                               {.keep_last = 1, .max_age = milliseconds(1)}, now_);
  EXPECT_EQ(expired.size(), 4u);
  EXPECT_EQ(std::count(expired.begin(), expired.end(), "holomush-new.dump"), 0);
}

TEST_F(RetentionTest, UnverifiedAndUndatedBackupsAreLeftAlone) {
  backups_.push_back(BackupInfo{
      .name = "holomush-x.dump", .created_at = "2020-01-01T00:00:00.000Z", .verified = false});
  backups_.push_back(Verified("holomush-y.dump", "yesterday"));
  auto expired = ChooseExpired(backups_, "holomush-d.dump", {.keep_last = 1}, now_);
  EXPECT_EQ(expired,
            (std::vector<std::string>{"holomush-c.dump", "holomush-b.dump", "holomush-a.dump"}));
}

TEST(AgeTest, ParsesUnitsAndRejectsTheRest) {
  EXPECT_EQ(ParseAge("30d"), milliseconds(30LL * 86400 * 1000));
  EXPECT_EQ(ParseAge("2w"), milliseconds(14LL * 86400 * 1000));
  EXPECT_EQ(ParseAge("12h"), milliseconds(12LL * 3600 * 1000));
  EXPECT_EQ(ParseAge("90m"), milliseconds(90LL * 60 * 1000));
  EXPECT_EQ(ParseAge("45s"), milliseconds(45000));
  EXPECT_EQ(ParseAge("45"), milliseconds(45000));
  EXPECT_EQ(ParseAge("500ms"), milliseconds(500));
  for (const char* bad : {"", "d", "-1d", "3x", "1.5h", "10 d", "9999999999999d"}) {
    EXPECT_FALSE(ParseAge(bad).has_value()) << bad;
  }
}

TEST(TimeTest, IsoTimeRoundTripsWithMilliseconds) {
  const auto t = At("2025-01-02T03:04:05.678Z");
  EXPECT_EQ(IsoTime(t), "2025-01-02T03:04:05.678Z");
  EXPECT_EQ(CompactStamp(t), "20250102T030405Z");
  EXPECT_FALSE(ParseIsoTime("2025-01-02T03:04:05Z").has_value());
  EXPECT_FALSE(ParseIsoTime("2025-01-02T03:04:05.678Z trailing").has_value());
}

TEST(ManifestTest, RoundTripsThroughJson) {
  Manifest m{.file = "holomush-20250102T030405Z.dump",
             .created_at = "2025-01-02T03:04:05.678Z",
             .size_bytes = 12345,
             .duration_seconds = 1.5,
             .sha256 = std::string(64, 'a'),
             .database = "holomush",
             .server_version = "15.6",
             .server_version_num = 150006,
             .schema_version = 3,
             .holomush_version = "0.1.0",
             .pg_dump_version = "pg_dump (PostgreSQL) 15.6",
             .toc_entries = 61,
             .verified = true,
             .verified_at = "2025-01-02T03:04:06.000Z"};
  auto parsed = ParseManifest(ManifestToJson(m));
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->file, m.file);
  EXPECT_EQ(parsed->size_bytes, 12345);
  EXPECT_EQ(parsed->schema_version, 3);
  EXPECT_EQ(parsed->sha256, m.sha256);
  EXPECT_TRUE(parsed->verified);
}

TEST(ManifestTest, RejectsOtherJson) {
  EXPECT_FALSE(ParseManifest("{\"file\": \"x\"}").ok());
  EXPECT_FALSE(ParseManifest("not json").ok());
  EXPECT_FALSE(ParseManifest("{\"format\": \"holomush-backup-manifest/1\"}").ok());
}

TEST(NameTest, BackupNamesExcludePartialsAndSidecars) {
  EXPECT_TRUE(IsBackupName("holomush-20250102T030405Z.dump"));
  EXPECT_TRUE(IsBackupName("holomush-20250102T030405Z-2.dump"));
  EXPECT_FALSE(IsBackupName(".holomush-backup-20250102T030405Z.dump.partial"));
  EXPECT_FALSE(IsBackupName("holomush-20250102T030405Z.dump.json"));
  EXPECT_FALSE(IsBackupName("holomush-.dump"));
}

class DirectoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("holomush-backup-unit-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  void Touch(const std::string& name) { std::ofstream(dir_ / name) << "x"; }
  fs::path dir_;
};

TEST_F(DirectoryTest, FreeBackupNameSkipsTakenNames) {
  const auto t = At("2025-01-02T03:04:05.000Z");
  EXPECT_EQ(FreeBackupName(dir_, t), "holomush-20250102T030405Z.dump");
  Touch("holomush-20250102T030405Z.dump");
  EXPECT_EQ(FreeBackupName(dir_, t), "holomush-20250102T030405Z-2.dump");
  Touch("holomush-20250102T030405Z-2.dump.json");  // a sidecar alone also takes the name
  EXPECT_EQ(FreeBackupName(dir_, t), "holomush-20250102T030405Z-3.dump");
}

TEST_F(DirectoryTest, LeftoversArePartialsAndOrphanSidecarsOnly) {
  Touch(".holomush-backup-20250102T030405Z.dump.partial");
  Touch(".holomush-backup-20250102T030405Z.dump.json.partial");
  Touch("holomush-20250101T000000Z.dump.sha256");  // archive gone
  Touch("holomush-20250103T000000Z.dump");
  Touch("holomush-20250103T000000Z.dump.sha256");
  Touch("holomush-20250103T000000Z.dump.json");
  Touch("notes.json");
  auto removed = RemoveLeftovers(dir_);
  EXPECT_EQ(removed,
            (std::vector<std::string>{".holomush-backup-20250102T030405Z.dump.json.partial",
                                      ".holomush-backup-20250102T030405Z.dump.partial",
                                      "holomush-20250101T000000Z.dump.sha256"}));
  for (const char* kept :
       {"holomush-20250103T000000Z.dump", "holomush-20250103T000000Z.dump.sha256",
        "holomush-20250103T000000Z.dump.json", "notes.json"}) {
    EXPECT_TRUE(fs::exists(dir_ / kept)) << kept;
  }
}

TEST_F(DirectoryTest, ListShowsOnlyCompleteNamesAndTrustsOnlyMatchingManifests) {
  Touch(".holomush-backup-20250102T030405Z.dump.partial");
  Touch("holomush-20250103T000000Z.dump");  // 1 byte, no manifest
  Touch("holomush-20250104T000000Z.dump");
  Manifest m{.file = "holomush-20250104T000000Z.dump",
             .created_at = "2025-01-04T00:00:00.000Z",
             .size_bytes = 1,
             .sha256 = std::string(64, 'b'),
             .schema_version = 1,
             .verified = true};
  std::ofstream(dir_ / "holomush-20250104T000000Z.dump.json") << ManifestToJson(m);
  Touch("holomush-20250105T000000Z.dump");
  m.file = "holomush-20250105T000000Z.dump";
  m.created_at = "2025-01-05T00:00:00.000Z";
  m.size_bytes = 2;  // not this file's size
  std::ofstream(dir_ / "holomush-20250105T000000Z.dump.json") << ManifestToJson(m);

  auto list = ListBackups(dir_);
  ASSERT_EQ(list.size(), 3u);
  std::map<std::string, bool> verified;
  for (const auto& b : list) verified[b.name] = b.verified;
  EXPECT_FALSE(verified["holomush-20250103T000000Z.dump"]);
  EXPECT_TRUE(verified["holomush-20250104T000000Z.dump"]);
  EXPECT_FALSE(verified["holomush-20250105T000000Z.dump"]);
}

TEST(RestoreListTest, CommentsOutExtensionCommentsAndTheOptionalExtensions) {
  const std::string toc =
      ";\n; Archive created at 2025-01-01\n"
      "2; 3079 16385 EXTENSION - pg_trgm \n"
      "3396; 0 0 COMMENT - EXTENSION pg_trgm \n"
      "3; 3079 16390 EXTENSION - pg_stat_statements \n"
      "3397; 0 0 COMMENT - EXTENSION pg_stat_statements \n"
      "215; 1259 16466 TABLE public events holomush\n";
  EXPECT_EQ(RestoreList(toc),
            ";\n; Archive created at 2025-01-01\n"
            "2; 3079 16385 EXTENSION - pg_trgm \n"
            ";3396; 0 0 COMMENT - EXTENSION pg_trgm \n"
            ";3; 3079 16390 EXTENSION - pg_stat_statements \n"
            ";3397; 0 0 COMMENT - EXTENSION pg_stat_statements \n"
            "215; 1259 16466 TABLE public events holomush\n");
  EXPECT_EQ(OptionalExtensionsIn(toc), std::vector<std::string>{"pg_stat_statements"});
  EXPECT_EQ(OptionalExtensionsIn(";3; 3079 16390 EXTENSION - pg_stat_statements \n"),
            std::vector<std::string>{});
}

}  // namespace
}  // namespace holomush::backup
