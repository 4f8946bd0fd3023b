// Child processes for pg_dump and pg_restore: output captured, SIGTERM forwarded.
#pragma once

#include <string>
#include <vector>

#include "holomush/common/result.hpp"

namespace holomush::backup {

struct ProcessResult {
  int exit_code = -1;    // set when the process exited
  int signal = 0;        // set when a signal ended it
  bool stopped = false;  // we were asked to stop and passed SIGTERM on
  std::string out;       // stdout, at most kMaxCapture bytes
  std::string err;       // the last kMaxCapture bytes of stderr
  bool ok() const { return exit_code == 0 && signal == 0 && !stopped; }
  // "exited with code 1", "killed by signal 9 (Killed)", "stopped by SIGTERM".
  std::string Describe() const;
  // The last few lines of stderr, for a log field.
  std::string ErrorTail() const;
};

// Stdout beyond this is an error for our uses (pg_restore --list of a very large catalogue
// still fits); stderr keeps its tail.
inline constexpr size_t kMaxCapture = 16 * 1024 * 1024;

// Runs `argv` (argv[0] an absolute path) with `extra_env` ("KEY=value") added, stdin from
// /dev/null. Runs on the calling thread; SIGTERM, SIGINT and SIGHUP that arrive meanwhile are
// forwarded to the child as SIGTERM and remembered (StopRequested). The child is killed if
// this process dies. Fails only when the program cannot be started.
common::Result<ProcessResult> RunProcess(const std::vector<std::string>& argv,
                                         const std::vector<std::string>& extra_env = {});

// From now on SIGTERM, SIGINT and SIGHUP only set a flag that the commands check between steps,
// so they can clean up before exiting. Call once, on the main thread.
void InstallStopHandlers();
bool StopRequested();

// An executable's absolute path: `override_path` when given (looked up on PATH when it has no
// slash); else, knowing the server's major version, the oldest client at least that new in
// /usr/lib/postgresql/<N>/bin; else `name` on PATH; else the newest of those.
common::Result<std::string> FindTool(const std::string& name, const std::string& override_path,
                                     int server_major = 0);

}  // namespace holomush::backup
