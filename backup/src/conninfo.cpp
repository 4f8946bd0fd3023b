#include "conninfo.hpp"

#include <libpq-fe.h>

#include <map>
#include <memory>
#include <regex>

namespace holomush::backup {
namespace {

std::string Quoted(const std::string& value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\\' || c == '\'') out += '\\';
    out += c;
  }
  return out + "'";
}

}  // namespace

std::vector<std::string> Connection::ChildEnvironment() const {
  if (!password) return {};
  return {"PGPASSWORD=" + *password};
}

common::Result<Connection> ParseConnection(const std::string& database_url) {
  char* error = nullptr;
  std::unique_ptr<PQconninfoOption, decltype(&PQconninfoFree)> options(
      PQconninfoParse(database_url.c_str(), &error), &PQconninfoFree);
  if (!options) {
    std::string reason = error != nullptr ? error : "out of memory";
    if (error != nullptr) PQfreemem(error);
    while (!reason.empty() && reason.back() == '\n') reason.pop_back();
    return common::MakeError(common::ErrorKind::kInvalid,
                             "DATABASE_URL is not a valid connection string: " + Redact(reason));
  }
  Connection conn;
  std::map<std::string, std::string> given;
  for (PQconninfoOption* o = options.get(); o->keyword != nullptr; ++o) {
    if (o->val == nullptr) continue;
    const std::string key = o->keyword;
    if (key == "password") {
      conn.password = o->val;
      continue;
    }
    given[key] = o->val;
    if (!conn.conninfo.empty()) conn.conninfo += ' ';
    conn.conninfo += key + "=" + Quoted(o->val);
  }
  auto field = [&](const std::string& key, const std::string& fallback) {
    auto it = given.find(key);
    return it == given.end() || it->second.empty() ? fallback : it->second;
  };
  conn.description = field("user", "(default user)") + "@" +
                     field("host", field("hostaddr", "(default host)")) + ":" +
                     field("port", "5432") + "/" + field("dbname", "(default database)");
  return conn;
}

std::string Redact(std::string text, const std::optional<std::string>& known_secret) {
  if (known_secret && !known_secret->empty()) {
    for (size_t pos = 0; (pos = text.find(*known_secret, pos)) != std::string::npos;) {
      text.replace(pos, known_secret->size(), "REDACTED");
      pos += 8;
    }
  }
  static const std::regex url_password(R"(([a-zA-Z][a-zA-Z0-9+.-]*://[^:/@\s]*):[^@\s]*@)");
  static const std::regex keyword_password(R"(password\s*=\s*('([^'\\]|\\.)*'|\S+))",
                                           std::regex::icase);
  text = std::regex_replace(text, url_password, "$1:REDACTED@");
  text = std::regex_replace(text, keyword_password, "password=REDACTED");
  return text;
}

}  // namespace holomush::backup
