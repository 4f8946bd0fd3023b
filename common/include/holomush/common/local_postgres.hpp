// A private PostgreSQL cluster from the system's binaries: for `holomush dev` and the tests.
#pragma once

#include <string>
#include <vector>

namespace holomush::common {

struct LocalPostgresOptions {
  std::string data_dir;  // created by initdb when empty or missing
  int port = 5432;
  std::string bin_dir;  // empty: the newest /usr/lib/postgresql/<N>/bin
  // Extra postgresql.conf lines (e.g. "fsync = off" for throwaway test clusters).
  std::vector<std::string> settings;
  std::string log_file;  // empty: <data_dir>/postgresql.log
};

// Owns the server process it starts (stopped in the destructor unless Detach()ed). When run
// as root, PostgreSQL's programs run as the `postgres` user, which owns the data directory.
class LocalPostgres {
 public:
  explicit LocalPostgres(LocalPostgresOptions options);
  ~LocalPostgres();
  LocalPostgres(const LocalPostgres&) = delete;
  LocalPostgres& operator=(const LocalPostgres&) = delete;

  // initdb (superuser `holomush`, trust auth on loopback) unless the cluster exists.
  void InitIfNeeded();
  // Starts the server and waits until it accepts connections. Throws with the log tail.
  void Start();
  // mode: "fast" (clean) or "immediate" (like a crash).
  void Stop(const std::string& mode = "fast");
  bool Running() const { return running_; }
  void CreateDatabaseIfMissing(const std::string& name);
  // postgresql://holomush@127.0.0.1:<port>/<database>
  std::string Url(const std::string& database) const;
  int port() const { return options_.port; }
  const std::string& data_dir() const { return options_.data_dir; }
  std::string Tool(const std::string& name) const;

 private:
  int Run(const std::string& command) const;
  std::string LogTail() const;
  LocalPostgresOptions options_;
  bool running_ = false;
};

}  // namespace holomush::common
