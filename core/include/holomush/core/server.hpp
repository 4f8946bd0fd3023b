// Entry point of `holomush core`.
#pragma once

#include <vector>

#include "holomush/common/config.hpp"
#include "holomush/common/shutdown.hpp"

namespace holomush::core {

std::vector<common::SettingSpec> CoreSettings();
// Runs until SIGTERM/SIGINT (or `shutdown`); returns the process exit code.
int RunCore(const common::Config& config, common::ShutdownSignal& shutdown);

}  // namespace holomush::core
