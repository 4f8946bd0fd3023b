#include "subcommands.hpp"

#include <iostream>

namespace holomush::cli {
namespace {

// A subcommand a later piece of work will build; refuses with exit code 2 until then.
class NotYetBuilt : public Subcommand {
 public:
  NotYetBuilt(std::string name, std::string help)
      : name_(std::move(name)), help_(std::move(help)) {}
  void Register(CLI::App& app) override {
    app_ = app.add_subcommand(name_, help_);
    app_->allow_extras();
  }
  bool Parsed() const override { return app_ != nullptr && app_->parsed(); }
  int Run() override {
    std::cerr << "holomush " << name_ << ": not available in this build yet\n";
    return 2;
  }

 private:
  std::string name_;
  std::string help_;
  CLI::App* app_ = nullptr;
};

}  // namespace

std::vector<std::unique_ptr<Subcommand>> Subcommands() {
  std::vector<std::unique_ptr<Subcommand>> subs;
  subs.push_back(MakeMigrate());
  subs.push_back(std::make_unique<NotYetBuilt>("status", "health of core and gateway"));
  subs.push_back(MakeBackup());
  subs.push_back(
      std::make_unique<NotYetBuilt>("dev", "PostgreSQL, core and gateway on this machine"));
  return subs;
}

}  // namespace holomush::cli
