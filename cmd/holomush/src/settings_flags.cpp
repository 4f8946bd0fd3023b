#include "settings_flags.hpp"

#include <optional>

namespace holomush::cli {

void SettingsFlags::Register(CLI::App* app) {
  app_ = app;
  app->add_option("--config", config_path_, "YAML file of settings (lowest precedence)");
  for (const auto& spec : specs_) {
    auto* opt = app->add_option("--" + spec.name, values_[spec.name], spec.help);
    if (!spec.default_value.empty() && !spec.secret) {
      opt->description(spec.help + " (default " + spec.default_value + ", env " +
                       common::EnvName(spec) + ")");
    } else {
      opt->description(spec.help + " (env " + common::EnvName(spec) + ")");
    }
  }
}

common::Config SettingsFlags::Load() const {
  std::map<std::string, std::string> given;
  for (const auto& spec : specs_) {
    if (app_->get_option("--" + spec.name)->count() > 0) given[spec.name] = values_.at(spec.name);
  }
  std::optional<std::string> path;
  if (!config_path_.empty()) path = config_path_;
  return common::Config::Load(specs_, given, common::ProcessEnvironment(), path);
}

}  // namespace holomush::cli
