#include <iostream>
#include <pqxx/pqxx>
#include <thread>

#include "holomush/core/migrate.hpp"
#include "store/database.hpp"
#include "store/migrations.hpp"

namespace holomush::core {

namespace {

// Connects, trying again every second until `wait` has passed; the last failure propagates.
pqxx::connection Connect(const std::string& url, std::chrono::milliseconds wait,
                         std::ostream& err) {
  const auto deadline = std::chrono::steady_clock::now() + wait;
  bool told = false;
  while (true) {
    try {
      return pqxx::connection(url);
    } catch (const pqxx::broken_connection& e) {
      if (std::chrono::steady_clock::now() + std::chrono::seconds(1) > deadline) throw;
      if (!told) {
        err << "holomush migrate: waiting up to " << wait.count() / 1000
            << " s for the database: " << e.what();
        told = true;
      }
      std::this_thread::sleep_for(std::chrono::seconds(1));
    }
  }
}

}  // namespace

int RunMigrateCommand(const std::string& database_url, const std::string& action, int steps,
                      std::chrono::milliseconds wait, std::ostream& out, std::ostream& err) {
  try {
    // Core's connection settings (connect_timeout among them): a Service with no endpoint yet
    // may drop the first SYNs, and without a timeout one attempt would take the kernel's two
    // minutes of retransmissions.
    pqxx::connection conn =
        Connect(WithConnectionSettings(database_url, "holomush-migrate"), wait, err);
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
