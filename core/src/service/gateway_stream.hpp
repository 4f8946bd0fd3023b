// One Gateway stream: a gateway's many sessions over one bidirectional gRPC stream (frames
// tagged with a session handle in, batched output and shared events out).
#pragma once

#include "holomush/core/v1/core.grpc.pb.h"
#include "service/grpc_service.hpp"

namespace holomush::core {

// A reactor for GameService::Gateway; gRPC owns it and deletes it in OnDone.
grpc::ServerBidiReactor<pb::GatewayUp, pb::GatewayDown>* NewGatewayStream(GameService& service);

}  // namespace holomush::core
