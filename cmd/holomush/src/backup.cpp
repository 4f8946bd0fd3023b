// `holomush backup run|list|verify|restore`: flags and environment over holomush::backup.
#include "holomush/backup/backup.hpp"

#include <cstdlib>
#include <iostream>

#include "holomush/common/logging.hpp"
#include "subcommands.hpp"

namespace holomush::cli {
namespace {

struct LogFlags {
  std::string format = "json";
  std::string level = "info";

  void Register(CLI::App* app) {
    app->add_option("--log-format", format, "json or text (default json)")
        ->envname("HOLOMUSH_LOG_FORMAT")
        ->check(CLI::IsMember({"json", "text"}));
    app->add_option("--log-level", level, "debug, info, warn or error (default info)")
        ->envname("HOLOMUSH_LOG_LEVEL")
        ->check(CLI::IsMember({"debug", "info", "warn", "error"}));
  }
  void Apply() const {
    common::ConfigureLogging(common::ParseLogFormat(format), common::ParseLogLevel(level));
  }
};

class Backup : public Subcommand {
 public:
  void Register(CLI::App& app) override {
    app_ = app.add_subcommand("backup", "logical backups: run, list, verify, restore");
    app_->require_subcommand(1);

    run_ = app_->add_subcommand(
        "run",
        "pg_dump DATABASE_URL into --dir, verify it, then apply retention (exit 3: "
        "another run holds the directory)");
    run_->add_option("--dir", dir_, "backup directory")->envname("HOLOMUSH_BACKUP_DIR")->required();
    run_->add_option("--keep-last", keep_last_, "keep only the newest N verified backups (0: all)")
        ->envname("HOLOMUSH_BACKUP_KEEP_LAST")
        ->check(CLI::NonNegativeNumber);
    run_->add_option("--max-age", max_age_,
                     "remove verified backups older than this, e.g. 30d, 12h (default: never)")
        ->envname("HOLOMUSH_BACKUP_MAX_AGE");
    AddDatabase(run_);
    run_->add_option("--pg-dump", tools_.pg_dump,
                     "pg_dump to run (default: PATH, then newest "
                     "/usr/lib/postgresql/<N>/bin)");
    AddPgRestore(run_);
    run_->add_option("--status-file", status_file_,
                     "also write the summary here as one JSON object, e.g. /dev/termination-log")
        ->envname("HOLOMUSH_BACKUP_STATUS_FILE");
    run_log_.Register(run_);

    list_ = app_->add_subcommand("list", "backups in --dir: time, size, schema version, verified");
    list_->add_option("--dir", dir_, "backup directory")
        ->envname("HOLOMUSH_BACKUP_DIR")
        ->required();
    list_->add_flag("--json", json_, "a JSON array instead of a table");

    verify_ = app_->add_subcommand("verify", "check a backup's checksum and read all of it");
    verify_->add_option("file", file_, "the backup archive (holomush-...dump)")->required();
    AddPgRestore(verify_);
    verify_log_.Register(verify_);

    restore_ = app_->add_subcommand(
        "restore", "load a backup into DATABASE_URL's database, which must be empty");
    restore_->add_option("file", file_, "the backup archive (holomush-...dump)")->required();
    restore_->add_flag("--force", force_,
                       "replace what the target database holds instead of refusing");
    AddDatabase(restore_);
    AddPgRestore(restore_);
    restore_log_.Register(restore_);
  }

  bool Parsed() const override { return app_ != nullptr && app_->parsed(); }

  int Run() override {
    // Our connections and pg_dump's show as holomush-backup in pg_stat_activity (unless the
    // URL or the environment names another).
    ::setenv("PGAPPNAME", "holomush-backup", 0);
    const common::Logger log("backup");
    if (list_->parsed()) return backup::PrintBackupList(dir_, json_, std::cout, std::cerr);
    if (verify_->parsed()) {
      verify_log_.Apply();
      return backup::VerifyBackup(file_, tools_, log);
    }
    std::chrono::milliseconds max_age{0};
    if (!max_age_.empty()) {
      auto parsed = backup::ParseAge(max_age_);
      if (!parsed) {
        std::cerr << "holomush backup run: invalid max-age \"" << max_age_
                  << "\": use a number with s, m, h, d or w, e.g. 30d\n";
        return backup::kExitUsage;
      }
      max_age = *parsed;
    }
    if (url_.empty()) {
      std::cerr << "holomush backup: missing setting database-url: set --database-url or "
                   "DATABASE_URL\n";
      return backup::kExitUsage;
    }
    if (restore_->parsed()) {
      restore_log_.Apply();
      return backup::RestoreBackup(
          {.database_url = url_, .file = file_, .force = force_, .tools = tools_}, log);
    }
    run_log_.Apply();
    return backup::RunBackup({.database_url = url_,
                              .dir = dir_,
                              .keep_last = keep_last_,
                              .max_age = max_age,
                              .tools = tools_,
                              .status_file = status_file_},
                             log);
  }

 private:
  void AddDatabase(CLI::App* app) {
    app->add_option("--database-url", url_, "PostgreSQL URL or keyword string")
        ->envname("DATABASE_URL");
  }
  void AddPgRestore(CLI::App* app) {
    app->add_option("--pg-restore", tools_.pg_restore,
                    "pg_restore to run (default: PATH, then newest /usr/lib/postgresql/<N>/bin)");
  }

  CLI::App* app_ = nullptr;
  CLI::App* run_ = nullptr;
  CLI::App* list_ = nullptr;
  CLI::App* verify_ = nullptr;
  CLI::App* restore_ = nullptr;
  LogFlags run_log_;
  LogFlags verify_log_;
  LogFlags restore_log_;
  std::string dir_;
  int keep_last_ = 0;
  std::string max_age_;
  std::string status_file_;
  std::string url_;
  std::string file_;
  bool json_ = false;
  bool force_ = false;
  backup::Tools tools_;
};

}  // namespace

std::unique_ptr<Subcommand> MakeBackup() { return std::make_unique<Backup>(); }

}  // namespace holomush::cli
