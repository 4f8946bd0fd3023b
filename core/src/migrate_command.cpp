#include <iostream>
#include <pqxx/pqxx>

#include "holomush/core/migrate.hpp"
#include "store/migrations.hpp"

namespace holomush::core {

int RunMigrateCommand(const std::string& database_url, const std::string& action, int steps,
                      std::ostream& out, std::ostream& err) {
  try {
    pqxx::connection conn(database_url);
    if (action == "up") {
      auto applied = MigrateUp(conn);
      for (const auto& m : applied) out << "applied " << m << "\n";
      out << "schema at version " << LatestSchemaVersion()
          << (applied.empty() ? " (nothing to do)" : "") << "\n";
      return 0;
    }
    if (action == "down") {
      auto reverted = MigrateDown(conn, steps);
      for (const auto& m : reverted) out << "reverted " << m << "\n";
      auto status = GetMigrationStatus(conn);
      out << "schema at version " << status.current << "\n";
      return 0;
    }
    auto status = GetMigrationStatus(conn);
    out << "current version: " << status.current << "\nlatest version:  " << status.latest << "\n";
    for (const auto& m : status.applied) out << "  applied  " << m << "\n";
    for (const auto& m : status.pending) out << "  pending  " << m << "\n";
    return status.current == status.latest ? 0 : 1;
  } catch (const pqxx::broken_connection& e) {
    err << "holomush migrate: cannot connect to the database: " << e.what();
    return 1;
  } catch (const std::exception& e) {
    err << "holomush migrate: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace holomush::core
