// The PostgreSQL connection pool; the only place libpqxx connections are made and errors
// are translated into our error kinds.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "holomush/common/result.hpp"

namespace holomush::core {

using common::Error;
using common::ErrorKind;
using common::Result;

// Translates a libpqxx/libpq exception into our error kinds (kUnavailable for lost
// connections and server shutdown, kConflict for unique violations and serialisation
// failures, kPermissionDenied, kInvalid, kInternal for the rest).
Error TranslateDbError(const std::exception& e);

// Thread-safe. Connections are opened lazily and replaced when broken, so a database that
// goes away and comes back needs no restart.
class Database {
 public:
  Database(std::string url, int pool_size, std::chrono::milliseconds acquire_timeout);
  ~Database();

  // Runs `fn` in a transaction and commits. `retry_safe` work is retried once on a lost
  // connection or serialisation failure (it must be idempotent or fully transactional).
  template <typename T>
  Result<T> Transact(const std::function<T(pqxx::work&)>& fn, bool retry_safe = true) {
    return Run<pqxx::work, T>(fn, retry_safe);
  }

  // Runs `fn` in autocommit mode: no BEGIN and no COMMIT, so one statement is one round
  // trip instead of three. For a single read, or a single statement that is atomic by
  // itself (several statements sent in one exec() also run as one implicit transaction).
  template <typename T>
  Result<T> Autocommit(const std::function<T(pqxx::transaction_base&)>& fn,
                       bool retry_safe = true) {
    return Run<pqxx::nontransaction, T>(fn, retry_safe);
  }

  // Names a statement that every connection of the pool prepares (on first use), for
  // exec_prepared(name, ...): parsed and planned once per connection, not per call. Call
  // before the pool is used.
  void Define(std::string name, std::string sql);

  // Cheap liveness query for readiness; never blocks longer than the acquire timeout.
  common::Status Ping();
  const std::string& url() const { return url_; }

 private:
  template <typename Txn, typename T, typename Fn>
  Result<T> Run(const Fn& fn, bool retry_safe);
  std::unique_ptr<pqxx::connection> Acquire();
  void Release(std::unique_ptr<pqxx::connection> conn);

  std::string url_;
  int pool_size_;
  std::chrono::milliseconds acquire_timeout_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<pqxx::connection>> idle_;
  std::vector<std::pair<std::string, std::string>> statements_;  // name, SQL
  int open_ = 0;  // connections handed out plus idle ones
};

bool IsRetryable(const Error& error);

// `url` (a libpq URL or keyword string) with core's connection settings, each unless the URL
// sets it already: application_name `name`, so pg_stat_activity tells our connections apart
// (holomush-core, holomush-core-listener); connect_timeout 10 s and tcp_user_timeout 30 s, so
// a database that vanishes without closing its sockets fails calls within half a minute
// instead of holding a worker for the kernel's retransmission time (many minutes).
std::string WithConnectionSettings(const std::string& url, const std::string& name);

template <typename Txn, typename T, typename Fn>
Result<T> Database::Run(const Fn& fn, bool retry_safe) {
  for (int attempt = 0;; ++attempt) {
    std::unique_ptr<pqxx::connection> conn;
    try {
      conn = Acquire();  // on failure Acquire has already given its slot back
    } catch (const std::exception& e) {
      Error error = TranslateDbError(e);
      if (retry_safe && attempt == 0) continue;
      return Error{ErrorKind::kUnavailable, error.message};
    }
    if (!conn) return Error{ErrorKind::kUnavailable, "database connection pool exhausted"};
    try {
      Txn txn(*conn);
      T value = fn(txn);
      txn.commit();
      Release(std::move(conn));
      return value;
    } catch (const std::exception& e) {
      Error error = TranslateDbError(e);
      // A broken connection is dropped; a healthy one goes back to the pool.
      if (conn->is_open() && error.kind != ErrorKind::kUnavailable) {
        Release(std::move(conn));
      } else {
        conn.reset();
        Release(nullptr);
      }
      if (retry_safe && attempt == 0 && IsRetryable(error)) continue;
      return error;
    }
  }
}

}  // namespace holomush::core
