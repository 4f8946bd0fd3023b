// `holomush migrate up|down N|status`.
#pragma once

#include <chrono>
#include <iosfwd>
#include <string>

namespace holomush::core {

// Returns the exit code; prints what was done to `out`, errors to `err`. A database that
// cannot be reached yet is tried again every second for up to `wait` (an init container
// beside a database that is still starting).
int RunMigrateCommand(const std::string& database_url, const std::string& action, int steps,
                      std::chrono::milliseconds wait, std::ostream& out, std::ostream& err);

}  // namespace holomush::core
