#include "holomush/common/grpc_health.hpp"

#include <grpcpp/health_check_service_interface.h>

namespace holomush::common {

void BindGrpcHealth(Health& health, grpc::Server& server) {
  auto* service = server.GetHealthCheckService();
  if (service == nullptr) return;
  health.OnChange([service](bool ready) { service->SetServingStatus(ready); });
}

}  // namespace holomush::common
