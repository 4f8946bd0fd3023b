// Counts every gRPC call core serves (Game, Control, Health) by method and status code.
#pragma once

#include <grpcpp/support/server_interceptor.h>

#include <memory>

#include "core_metrics.hpp"

namespace holomush::core {

// One interceptor per call, made by gRPC on the call's thread; `metrics` outlives the server.
// holomush_grpc_requests_total{method,code} for every call as its status is sent, and
// holomush_grpc_latency_seconds{method} for unary calls (streams time each command
// themselves).
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> MakeGrpcMetricsInterceptor(
    CoreMetrics& metrics);

// "/holomush.core.v1.Game/Login" -> "Login".
std::string ShortMethodName(const char* full_method);

}  // namespace holomush::core
