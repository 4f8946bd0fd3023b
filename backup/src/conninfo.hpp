// DATABASE_URL taken apart so the password reaches pg_dump by environment, never by argv or logs.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "holomush/common/result.hpp"

namespace holomush::backup {

struct Connection {
  // keyword='value' pairs without the password, for --dbname.
  std::string conninfo;
  std::optional<std::string> password;
  // user@host:port/dbname, for logs.
  std::string description;
  // PGPASSWORD=..., or nothing, for the child's environment.
  std::vector<std::string> ChildEnvironment() const;
};

// Accepts a libpq URL or keyword string (what libpq accepts); Invalid with libpq's reason.
common::Result<Connection> ParseConnection(const std::string& database_url);

// Replaces passwords in URLs (scheme://user:secret@), keyword strings (password=secret) and
// any occurrence of `known_secret` with "REDACTED".
std::string Redact(std::string text, const std::optional<std::string>& known_secret = {});

}  // namespace holomush::backup
