#include "service/grpc_metrics_interceptor.hpp"

#include <chrono>
#include <string>

#include "service/grpc_service.hpp"

namespace holomush::core {
namespace {

using grpc::experimental::InterceptionHookPoints;

class MetricsInterceptor final : public grpc::experimental::Interceptor {
 public:
  MetricsInterceptor(CoreMetrics& metrics, grpc::experimental::ServerRpcInfo* info)
      : metrics_(metrics),
        method_(ShortMethodName(info->method())),
        unary_(info->type() == grpc::experimental::ServerRpcInfo::Type::UNARY) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      const auto code = GrpcCodeName(methods->GetSendStatus().error_code());
      const auto elapsed = std::chrono::steady_clock::now() - started_;
      if (unary_) {
        metrics_.Grpc(method_, code, elapsed);
      } else {
        metrics_.GrpcCall(method_, code);
      }
    }
    methods->Proceed();
  }

 private:
  CoreMetrics& metrics_;
  std::string method_;
  bool unary_;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

class MetricsInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit MetricsInterceptorFactory(CoreMetrics& metrics) : metrics_(metrics) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new MetricsInterceptor(metrics_, info);
  }

 private:
  CoreMetrics& metrics_;
};

}  // namespace

std::string ShortMethodName(const char* full_method) {
  const std::string name = full_method != nullptr ? full_method : "";
  const auto slash = name.rfind('/');
  return slash == std::string::npos ? name : name.substr(slash + 1);
}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> MakeGrpcMetricsInterceptor(
    CoreMetrics& metrics) {
  return std::make_unique<MetricsInterceptorFactory>(metrics);
}

}  // namespace holomush::core
