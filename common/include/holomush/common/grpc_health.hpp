// Ties the gRPC server's grpc.health.v1 service to the process's readiness checks.
#pragma once

#include <grpcpp/server.h>

#include "holomush/common/health.hpp"

namespace holomush::common {

// The server must have been built after grpc::EnableDefaultHealthCheckService(true).
// SERVING exactly while `health` is ready; NOT_SERVING from shutdown on.
void BindGrpcHealth(Health& health, grpc::Server& server);

}  // namespace holomush::common
