// A subcommand's flags made from its setting specs: `--<name>` for each setting plus
// `--config FILE`, resolved by common::Config (flag over environment over file over default).
#pragma once

#include <CLI/CLI.hpp>
#include <map>
#include <string>
#include <vector>

#include "holomush/common/config.hpp"

namespace holomush::cli {

class SettingsFlags {
 public:
  explicit SettingsFlags(std::vector<common::SettingSpec> specs) : specs_(std::move(specs)) {}

  // Adds the flags to `app`, whose parse they then belong to.
  void Register(CLI::App* app);
  // The settings, from the flags the user typed, the environment and the --config file.
  // Throws common::ConfigError naming the setting and its source.
  common::Config Load() const;

 private:
  CLI::App* app_ = nullptr;
  std::vector<common::SettingSpec> specs_;
  std::map<std::string, std::string> values_;
  std::string config_path_;
};

}  // namespace holomush::cli
