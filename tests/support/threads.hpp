// The threads of a running process, as /proc lists them.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace holomush::testing {

// How many threads of process `pid` carry the name `name` (/proc/<pid>/task/*/comm).
inline int ThreadsNamed(pid_t pid, const std::string& name) {
  int count = 0;
  std::error_code ec;
  const std::filesystem::path tasks = "/proc/" + std::to_string(pid) + "/task";
  for (const auto& task : std::filesystem::directory_iterator(tasks, ec)) {
    std::ifstream comm(task.path() / "comm");
    std::string line;
    if (std::getline(comm, line) && line == name) ++count;
  }
  return count;
}

}  // namespace holomush::testing
