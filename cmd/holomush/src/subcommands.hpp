// Subcommands other than core, gateway and certs; each lives in its own file.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <vector>

namespace holomush::cli {

class Subcommand {
 public:
  virtual ~Subcommand() = default;
  virtual void Register(CLI::App& app) = 0;
  virtual bool Parsed() const = 0;
  // Returns the exit code.
  virtual int Run() = 0;
};

std::vector<std::unique_ptr<Subcommand>> Subcommands();

std::unique_ptr<Subcommand> MakeAdmin();
std::unique_ptr<Subcommand> MakeMigrate();
std::unique_ptr<Subcommand> MakeBackup();
std::unique_ptr<Subcommand> MakeStatus();
std::unique_ptr<Subcommand> MakeDev();

}  // namespace holomush::cli
