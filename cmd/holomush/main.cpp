// `holomush`: one binary, many subcommands (see holomush/cli/cli.hpp).
#include "holomush/cli/cli.hpp"

int main(int argc, char** argv) { return holomush::cli::Main(argc, argv); }
