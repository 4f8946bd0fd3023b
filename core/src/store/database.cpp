#include "store/database.hpp"

#include <utility>

namespace holomush::core {

Error TranslateDbError(const std::exception& e) {
  if (dynamic_cast<const pqxx::broken_connection*>(&e) != nullptr) {
    return {ErrorKind::kUnavailable, std::string("database unavailable: ") + e.what()};
  }
  if (dynamic_cast<const pqxx::in_doubt_error*>(&e) != nullptr) {
    return {ErrorKind::kUnavailable, std::string("database commit in doubt: ") + e.what()};
  }
  if (const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e)) {
    const std::string& state = sql->sqlstate();
    if (state == "23505" || state == "40001" || state == "40P01")
      return {ErrorKind::kConflict, e.what()};
    if (state == "42501") return {ErrorKind::kPermissionDenied, e.what()};
    if (state.rfind("22", 0) == 0 || state.rfind("23", 0) == 0)
      return {ErrorKind::kInvalid, e.what()};
    // 08: connection exception; 57P: operator intervention (shutdown); 53: resources.
    if (state.rfind("08", 0) == 0 || state.rfind("57P", 0) == 0 || state.rfind("53", 0) == 0) {
      return {ErrorKind::kUnavailable, e.what()};
    }
    return {ErrorKind::kInternal, e.what()};
  }
  return {ErrorKind::kInternal, e.what()};
}

bool IsRetryable(const Error& error) {
  return error.kind == ErrorKind::kUnavailable ||
         (error.kind == ErrorKind::kConflict &&
          error.message.find("could not serialize") != std::string::npos);
}

Database::Database(std::string url, int pool_size, std::chrono::milliseconds acquire_timeout)
    : url_(std::move(url)), pool_size_(pool_size), acquire_timeout_(acquire_timeout) {}

Database::~Database() = default;

std::unique_ptr<pqxx::connection> Database::Acquire() {
  {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, acquire_timeout_,
                      [this] { return !idle_.empty() || open_ < pool_size_; })) {
      return nullptr;
    }
    if (!idle_.empty()) {
      auto conn = std::move(idle_.back());
      idle_.pop_back();
      if (conn->is_open()) return conn;
      // Fall through to reconnect in place of the dead one (open_ stays the same).
    } else {
      ++open_;
    }
  }
  try {
    auto conn = std::make_unique<pqxx::connection>(url_);
    for (const auto& [name, sql] : statements_) conn->prepare(name, sql);
    return conn;
  } catch (...) {
    std::lock_guard lock(mu_);
    --open_;
    cv_.notify_one();
    throw;
  }
}

void Database::Define(std::string name, std::string sql) {
  std::lock_guard lock(mu_);
  statements_.emplace_back(std::move(name), std::move(sql));
}

void Database::Release(std::unique_ptr<pqxx::connection> conn) {
  std::lock_guard lock(mu_);
  if (conn) {
    idle_.push_back(std::move(conn));
  } else {
    --open_;
  }
  cv_.notify_one();
}

common::Status Database::Ping() {
  auto r = Transact<int>([](pqxx::work& txn) { return txn.exec1("SELECT 1")[0].as<int>(); }, false);
  if (!r) return r.error();
  return common::Ok{};
}

std::string WithConnectionSettings(const std::string& url, const std::string& name) {
  const bool is_url = url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0;
  std::string out = url;
  for (const auto& [key, value] : {std::pair<std::string, std::string>{"application_name", name},
                                   {"connect_timeout", "10"},
                                   {"tcp_user_timeout", "30000"}}) {
    if (url.find(key + "=") != std::string::npos) continue;
    if (is_url) {
      out += (out.find('?') == std::string::npos ? "?" : "&") + key + "=" + value;
    } else {
      out += (out.empty() ? "" : " ") + key + "=" + value;
    }
  }
  return out;
}

}  // namespace holomush::core
