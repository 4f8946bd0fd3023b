#include <iostream>

#include "game/accounts.hpp"
#include "holomush/core/admin.hpp"
#include "store/database.hpp"
#include "store/pg_store.hpp"

namespace holomush::core {

int RunAdminCreate(const std::string& database_url, const AdminRequest& request, std::ostream& out,
                   std::ostream& err) {
  using common::ErrorKind;
  Database db(database_url, 1, std::chrono::seconds(10));
  PgStore store(db);
  auto existing = store.FindPlayer(request.username);
  if (existing) {
    const Player& player = existing->player;
    if (player.role == "admin") {
      out << "holomush admin: " << player.username << " is already an admin\n";
      return 0;
    }
    if (!request.promote) {
      err << "holomush admin: account " << player.username << " exists and is a " << player.role
          << "; add --promote to make it an admin\n";
      return 1;
    }
    if (auto set = store.SetRole(player.username, "admin"); !set) {
      err << "holomush admin: " << set.error().message << "\n";
      return 1;
    }
    out << "holomush admin: " << player.username << " is now an admin\n";
    return 0;
  }
  if (existing.error().kind != ErrorKind::kNotFound) {
    err << "holomush admin: " << existing.error().message << "\n";
    return 1;
  }
  if (auto why = AccountRefusal(request.username, request.password)) {
    err << "holomush admin: " << *why << "\n";
    return 2;
  }
  auto hash = HashPassword(request.password);
  if (!hash) {
    err << "holomush admin: password hashing failed\n";
    return 1;
  }
  auto created = store.CreateAccount(request.username, *hash,
                                     *NormalizeCharacterName(request.username), "admin");
  if (!created) {
    err << "holomush admin: " << created.error().message << "\n";
    return 1;
  }
  out << "holomush admin: created admin account " << request.username << " (character "
      << created->character.name << ")\n";
  return 0;
}

}  // namespace holomush::core
