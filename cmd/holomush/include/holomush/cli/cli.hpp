// The `holomush` command line: subcommand dispatch, flags and exit codes.
#pragma once

namespace holomush::cli {

// Exit codes: 0 success, 1 failure, 2 usage error (unknown subcommand or flag, bad value).
int Main(int argc, char** argv);

}  // namespace holomush::cli
