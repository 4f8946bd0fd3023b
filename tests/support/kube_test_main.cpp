// main() for test binaries that need the k8s control plane: registers the shared
// environment, then runs every test in the binary against it.
#include <gtest/gtest.h>

#include "kube_env.hpp"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  holomush::testing::RegisterKubeEnvironment();
  return RUN_ALL_TESTS();
}
