// Named readiness checks shared by the ops HTTP server and the gRPC health service.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace holomush::common {

// Owned by the process's main; Set() is called from any thread by the subsystem that owns a
// check (it must be cheap: probes read the last result, they never run a check themselves).
class Health {
 public:
  struct Report {
    bool ready = false;
    std::vector<std::string> failing;  // "name: detail"
  };

  // Adds or updates a check. A check is failing until first set ok.
  void Set(const std::string& name, bool ok, const std::string& detail = "");
  // Readiness is false from now on, whatever the checks say.
  void SetShuttingDown();
  bool ShuttingDown() const;
  Report Readiness() const;
  // Called (outside the lock) whenever overall readiness flips, and once at registration.
  void OnChange(std::function<void(bool ready)> listener);

 private:
  bool ReadyLocked() const;
  void Notify(bool ready);

  struct Check {
    bool ok = false;
    std::string detail;
  };
  mutable std::mutex mu_;
  std::map<std::string, Check> checks_;
  bool shutting_down_ = false;
  bool last_ready_ = false;
  std::vector<std::function<void(bool)>> listeners_;
};

}  // namespace holomush::common
