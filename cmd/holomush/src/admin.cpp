// `holomush admin create NAME`: makes an admin account explicitly (the only way one is made).
#include "holomush/core/admin.hpp"

#include <termios.h>
#include <unistd.h>

#include <fstream>
#include <iostream>

#include "holomush/common/config.hpp"
#include "subcommands.hpp"

namespace holomush::cli {
namespace {

// One line from stdin; with a terminal, prompts and does not echo it.
std::string ReadPasswordLine() {
  const bool tty = isatty(STDIN_FILENO) == 1;
  termios saved{};
  if (tty) {
    std::cerr << "Password: " << std::flush;
    tcgetattr(STDIN_FILENO, &saved);
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  }
  std::string line;
  std::getline(std::cin, line);
  if (tty) {
    tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    std::cerr << "\n";
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

class Admin : public Subcommand {
 public:
  void Register(CLI::App& app) override {
    app_ = app.add_subcommand("admin", "manage the game's admins");
    app_->require_subcommand(1);
    create_ = app_->add_subcommand(
        "create",
        "create an admin account (password from --password-file, HOLOMUSH_ADMIN_PASSWORD or "
        "stdin), or confirm an existing admin");
    create_->add_option("username", request_.username, "the account's name")->required();
    create_->add_flag("--promote", request_.promote,
                      "make an existing player account an admin instead of refusing");
    create_->add_option("--password-file", password_file_,
                        "file whose first line is the password (a mounted Secret)");
    create_->add_option("--database-url", url_, "PostgreSQL URL (env DATABASE_URL)");
  }
  bool Parsed() const override { return app_->parsed(); }
  int Run() override {
    const auto env = common::ProcessEnvironment();
    if (url_.empty()) url_ = env("DATABASE_URL").value_or("");
    if (url_.empty()) {
      std::cerr << "holomush admin: missing setting database-url: set --database-url or "
                   "DATABASE_URL\n";
      return 2;
    }
    if (!password_file_.empty()) {
      std::ifstream in(password_file_);
      if (!in) {
        std::cerr << "holomush admin: cannot read --password-file " << password_file_ << "\n";
        return 2;
      }
      std::getline(in, request_.password);
    } else if (auto from_env = env("HOLOMUSH_ADMIN_PASSWORD")) {
      request_.password = *from_env;
    } else if (!request_.promote) {
      request_.password = ReadPasswordLine();
    }
    return core::RunAdminCreate(url_, request_, std::cout, std::cerr);
  }

 private:
  CLI::App* app_ = nullptr;
  CLI::App* create_ = nullptr;
  core::AdminRequest request_;
  std::string password_file_;
  std::string url_;
};

}  // namespace

std::unique_ptr<Subcommand> MakeAdmin() { return std::make_unique<Admin>(); }

}  // namespace holomush::cli
