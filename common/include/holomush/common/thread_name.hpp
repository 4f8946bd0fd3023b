// Thread names, as `top -H`, `ps -L`, /proc/<pid>/task/*/comm and debuggers show them: an
// operator looking at a busy process sees which pool is busy.
#pragma once

#include <boost/asio/post.hpp>
#include <latch>
#include <memory>
#include <string>

namespace holomush::common {

// Names the calling thread. Linux keeps at most 15 bytes of it.
void NameThisThread(const std::string& name);

// Names each of the `threads` threads of `pool` (a boost::asio::thread_pool, idle so far):
// one task per thread, each holding its thread until all have started, so no thread takes
// two. Returns once every one is named.
template <typename Pool>
void NameEveryThread(Pool& pool, int threads, const std::string& name) {
  auto started = std::make_shared<std::latch>(threads);
  auto named = std::make_shared<std::latch>(threads);
  for (int i = 0; i < threads; ++i) {
    boost::asio::post(pool, [started, named, name] {
      NameThisThread(name);
      started->arrive_and_wait();
      named->count_down();
    });
  }
  named->wait();
}

}  // namespace holomush::common
