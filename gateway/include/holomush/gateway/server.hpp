// Entry point of `holomush gateway`.
#pragma once

#include <vector>

#include "holomush/common/config.hpp"
#include "holomush/common/shutdown.hpp"

namespace holomush::gateway {

std::vector<common::SettingSpec> GatewaySettings();
// Runs until SIGTERM/SIGINT (or `shutdown`); returns the process exit code.
int RunGateway(const common::Config& config, common::ShutdownSignal& shutdown);

}  // namespace holomush::gateway
