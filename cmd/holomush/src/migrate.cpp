// `holomush migrate up|down N|status`: schema migrations outside a running core.
#include "holomush/core/migrate.hpp"

#include <iostream>

#include "holomush/common/config.hpp"
#include "subcommands.hpp"

namespace holomush::cli {
namespace {

class Migrate : public Subcommand {
 public:
  void Register(CLI::App& app) override {
    app_ = app.add_subcommand("migrate", "schema migrations: up, down N, status");
    app_->add_option("action", action_, "up, down or status")
        ->required()
        ->check(CLI::IsMember({"up", "down", "status"}));
    app_->add_option("steps", steps_, "how many versions down goes back")
        ->check(CLI::Range(1, 1000));
    app_->add_option("--database-url", url_, "PostgreSQL URL (env DATABASE_URL)");
    app_->add_option("--wait", wait_,
                     "keep trying a database that cannot be reached yet for this long (30s, 2m; "
                     "default 0s)");
  }
  bool Parsed() const override { return app_->parsed(); }
  int Run() override {
    if (url_.empty()) url_ = common::ProcessEnvironment()("DATABASE_URL").value_or("");
    if (url_.empty()) {
      std::cerr << "holomush migrate: missing setting database-url: set --database-url or "
                   "DATABASE_URL\n";
      return 2;
    }
    if (action_ == "down" && steps_ == 0) {
      std::cerr << "holomush migrate: down needs a number of versions, e.g. `migrate down 1`\n";
      return 2;
    }
    const auto wait = common::ParseDuration(wait_);
    if (!wait) {
      std::cerr << "holomush migrate: --wait: want a duration such as 30s or 2m, not '" << wait_
                << "'\n";
      return 2;
    }
    return core::RunMigrateCommand(url_, action_, steps_, *wait, std::cout, std::cerr);
  }

 private:
  CLI::App* app_ = nullptr;
  std::string action_;
  int steps_ = 0;
  std::string url_;
  std::string wait_ = "0s";
};

}  // namespace

std::unique_ptr<Subcommand> MakeMigrate() { return std::make_unique<Migrate>(); }

}  // namespace holomush::cli
