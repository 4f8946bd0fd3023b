// Entry point of `holomush-operator`.
#pragma once

namespace holomush::op {

// Runs the operator; returns the process exit code.
int RunOperator(int argc, char** argv);
// `holomush-operator render -f FILE`: prints the children of each HoloMUSH in FILE.
int RenderCommand(int argc, char** argv);

}  // namespace holomush::op
