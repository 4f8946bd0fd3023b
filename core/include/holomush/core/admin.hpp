// `holomush admin create`: admins are made explicitly, never by registration order.
#pragma once

#include <iosfwd>
#include <string>

namespace holomush::core {

struct AdminRequest {
  std::string username;
  // Needed only when the account does not exist yet.
  std::string password;
  // An existing player account becomes an admin (otherwise it is refused).
  bool promote = false;
};

// Creates the admin account (with a first character of the same name), or confirms an
// existing admin (idempotent: the password is left alone), or promotes an existing account
// when asked. Returns the exit code: 0 done, 1 refused or failed, 2 bad input.
int RunAdminCreate(const std::string& database_url, const AdminRequest& request, std::ostream& out,
                   std::ostream& err);

}  // namespace holomush::core
