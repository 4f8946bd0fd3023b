#include "holomush/common/thread_name.hpp"

#include <pthread.h>

namespace holomush::common {

void NameThisThread(const std::string& name) {
  // The kernel's limit is 16 bytes with the terminating NUL; longer names are refused whole.
  pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
}

}  // namespace holomush::common
