#include "subcommands.hpp"

namespace holomush::cli {

std::vector<std::unique_ptr<Subcommand>> Subcommands() {
  std::vector<std::unique_ptr<Subcommand>> subs;
  subs.push_back(MakeMigrate());
  subs.push_back(MakeAdmin());
  subs.push_back(MakeStatus());
  subs.push_back(MakeBackup());
  subs.push_back(MakeDev());
  return subs;
}

}  // namespace holomush::cli
