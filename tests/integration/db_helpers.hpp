// Direct SQL for assertions: what is really in the tables.
#pragma once

#include <pqxx/pqxx>
#include <string>

namespace holomush::testing {

inline std::string QueryOne(const std::string& url, const std::string& sql) {
  pqxx::connection conn(url);
  pqxx::nontransaction txn(conn);
  auto r = txn.exec(sql);
  if (r.empty() || r[0][0].is_null()) return "";
  return r[0][0].as<std::string>();
}

inline void ExecSql(const std::string& url, const std::string& sql) {
  pqxx::connection conn(url);
  pqxx::nontransaction txn(conn);
  txn.exec(sql);
}

}  // namespace holomush::testing
