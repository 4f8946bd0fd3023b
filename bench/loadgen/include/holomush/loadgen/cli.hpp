// `holomush-loadgen run|setup|report`: flags to configs (see bench/README.md).
#pragma once

namespace holomush::loadgen {

int LoadgenMain(int argc, char** argv);

}  // namespace holomush::loadgen
