#include "support/postgres.hpp"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <mutex>

#include "support/net.hpp"

namespace holomush::testing {
namespace {

struct Cluster {
  std::string dir;
  std::unique_ptr<common::LocalPostgres> pg;
  ~Cluster() {
    pg.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

Cluster& Instance() {
  static Cluster c;
  static std::once_flag once;
  std::call_once(once, [] {
    c.dir = (std::filesystem::temp_directory_path() / ("holomush-pg-" + std::to_string(::getpid())))
                .string();
    c.pg = std::make_unique<common::LocalPostgres>(common::LocalPostgresOptions{
        .data_dir = c.dir + "/data",
        .port = FreePort(),
        .settings = {"fsync = off", "synchronous_commit = off", "full_page_writes = off"}});
    std::filesystem::create_directories(c.dir);
    if (::geteuid() == 0) std::system(("chown postgres " + c.dir).c_str());
    c.pg->InitIfNeeded();
    c.pg->Start();
  });
  return c;
}

}  // namespace

common::LocalPostgres& SharedPostgres() { return *Instance().pg; }

std::string FreshDatabase(const std::string& prefix) {
  static std::atomic<int> counter{0};
  static std::mutex mu;
  std::lock_guard lock(mu);
  auto& pg = SharedPostgres();
  const std::string name =
      prefix + "_" + std::to_string(::getpid()) + "_" + std::to_string(++counter);
  pg.CreateDatabaseIfMissing(name);
  return pg.Url(name);
}

}  // namespace holomush::testing
