// The gateway unit tests' main. gRPC 1.51 (Debian's) sometimes frees its callback completion
// queue twice in its own poller thread while the process exits, after every test has passed
// (seen under ASan, and once in a loaded debug run of CoreClientUnreachableTest). The results
// are final when RUN_ALL_TESTS returns, so the process leaves without running static
// destructors; under ASan the leak check runs first, as it would at exit.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#endif

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  const int result = RUN_ALL_TESTS();
#if defined(__SANITIZE_ADDRESS__)
  __lsan_do_leak_check();
#endif
  std::fflush(nullptr);
  std::_Exit(result);
}
