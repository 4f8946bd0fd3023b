#include "holomush/common/local_postgres.hpp"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace holomush::common {
namespace {

namespace fs = std::filesystem;

std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string NewestBinDir() {
  std::vector<int> versions;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    try {
      versions.push_back(std::stoi(entry.path().filename().string()));
    } catch (...) {
    }
  }
  if (versions.empty()) {
    throw std::runtime_error("PostgreSQL server binaries not found under /usr/lib/postgresql");
  }
  return "/usr/lib/postgresql/" +
         std::to_string(*std::max_element(versions.begin(), versions.end())) + "/bin";
}

}  // namespace

LocalPostgres::LocalPostgres(LocalPostgresOptions options) : options_(std::move(options)) {
  if (options_.bin_dir.empty()) options_.bin_dir = NewestBinDir();
  if (options_.log_file.empty()) options_.log_file = options_.data_dir + "/postgresql.log";
}

LocalPostgres::~LocalPostgres() {
  if (running_) {
    try {
      Stop("fast");
    } catch (...) {
    }
  }
}

std::string LocalPostgres::Tool(const std::string& name) const {
  return options_.bin_dir + "/" + name;
}

int LocalPostgres::Run(const std::string& command) const {
  std::string full = command;
  if (::geteuid() == 0) full = "runuser -u postgres -- " + command;
  int rc = std::system((full + " >/dev/null 2>&1").c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : 1;
}

std::string LocalPostgres::LogTail() const {
  std::ifstream in(options_.log_file);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  std::string out;
  for (size_t i = lines.size() > 5 ? lines.size() - 5 : 0; i < lines.size(); ++i) {
    out += "\n  " + lines[i];
  }
  return out;
}

void LocalPostgres::InitIfNeeded() {
  if (fs::exists(fs::path(options_.data_dir) / "PG_VERSION")) return;
  fs::create_directories(options_.data_dir);
  if (::geteuid() == 0) {
    std::system(("chown -R postgres:postgres " + Quote(options_.data_dir)).c_str());
  }
  fs::permissions(options_.data_dir, fs::perms::owner_all, fs::perm_options::replace);
  if (Run(Tool("initdb") + " -D " + Quote(options_.data_dir) +
          " -U holomush -A trust --encoding=UTF8 --locale=C.UTF-8") != 0) {
    throw std::runtime_error("initdb failed for " + options_.data_dir);
  }
  std::ofstream conf(options_.data_dir + "/postgresql.conf", std::ios::app);
  conf << "\n# holomush\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = ''\n"
       << "shared_preload_libraries = 'pg_stat_statements'\nmax_connections = 200\n";
  for (const auto& s : options_.settings) conf << s << "\n";
}

void LocalPostgres::Start() {
  // The log lives in the data directory, which the server's user owns.
  if (Run(Tool("pg_ctl") + " start -w -t 60 -D " + Quote(options_.data_dir) + " -l " +
          Quote(options_.log_file) + " -o " + Quote("-p " + std::to_string(options_.port))) != 0) {
    throw std::runtime_error("PostgreSQL did not start on port " + std::to_string(options_.port) +
                             ":" + LogTail());
  }
  running_ = true;
}

void LocalPostgres::Stop(const std::string& mode) {
  Run(Tool("pg_ctl") + " stop -w -t 60 -m " + mode + " -D " + Quote(options_.data_dir));
  running_ = false;
}

void LocalPostgres::CreateDatabaseIfMissing(const std::string& name) {
  const std::string psql = Tool("psql") + " -h 127.0.0.1 -p " + std::to_string(options_.port) +
                           " -U holomush -d postgres -tAc ";
  const std::string exists =
      psql + Quote("SELECT 1 FROM pg_database WHERE datname = '" + name + "'") + " | grep -q 1";
  if (std::system(("sh -c " + Quote(exists)).c_str()) == 0) return;
  if (std::system((psql + Quote("CREATE DATABASE \"" + name + "\"") + " >/dev/null").c_str()) !=
      0) {
    throw std::runtime_error("cannot create database " + name);
  }
}

std::string LocalPostgres::Url(const std::string& database) const {
  return "postgresql://holomush@127.0.0.1:" + std::to_string(options_.port) + "/" + database;
}

}  // namespace holomush::common
