// `holomush migrate up|down N|status`.
#pragma once

#include <iosfwd>
#include <string>

namespace holomush::core {

// Returns the exit code; prints what was done to `out`, errors to `err`.
int RunMigrateCommand(const std::string& database_url, const std::string& action, int steps,
                      std::ostream& out, std::ostream& err);

}  // namespace holomush::core
