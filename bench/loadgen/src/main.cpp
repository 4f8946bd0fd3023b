// `holomush-loadgen`: one binary for the scenarios, the world setup and the report.
#include "holomush/loadgen/cli.hpp"

int main(int argc, char** argv) { return holomush::loadgen::LoadgenMain(argc, argv); }
