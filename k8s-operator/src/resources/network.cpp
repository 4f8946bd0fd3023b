// NetworkPolicies: who may open a connection to which port of a game's Pods. Ingress only;
// egress stays open (DNS, an external database, the API server for nothing: core and gateway
// never call it).
#include "holomush/operator/resources.hpp"

namespace holomush::op::resources {
namespace {

Json PodsOf(const HoloMush& hm, const std::string& component) {
  return {{"podSelector", {{"matchLabels", SelectorLabels(hm, component)}}}};
}

// Pods a user marks as this game's clients (the CLI: `holomush status`, the chart's test Pod).
Json Clients(const HoloMush& hm) {
  return {{"podSelector", {{"matchLabels", {{kClientLabel, hm.name}}}}}};
}

Json Ports(std::initializer_list<const char*> names) {
  Json out = Json::array();
  for (const char* name : names) out.push_back({{"port", name}, {"protocol", "TCP"}});
  return out;
}

// <name>-<suffix>, for the Pods of `component`.
Json Policy(const HoloMush& hm, const std::string& suffix, const std::string& component,
            Json ingress) {
  return {{"apiVersion", "networking.k8s.io/v1"},
          {"kind", "NetworkPolicy"},
          {"metadata", ChildMetadata(hm, ChildName(hm, suffix), component)},
          {"spec",
           {{"podSelector", {{"matchLabels", SelectorLabels(hm, component)}}},
            {"policyTypes", Json::array({"Ingress"})},
            {"ingress", std::move(ingress)}}}};
}

}  // namespace

std::vector<Json> NetworkPolicies(const HoloMush& hm) {
  const Json& metrics_from = hm.spec.network_policy.metrics_from;
  std::vector<Json> out;
  out.push_back(Policy(hm, "core", "core",
                       Json::array({{{"ports", Ports({"grpc"})},
                                     {"from", Json::array({PodsOf(hm, "gateway"), Clients(hm)})}},
                                    {{"ports", Ports({"ops"})}, {"from", metrics_from}}})));
  out.push_back(
      Policy(hm, "gateway", "gateway",
             Json::array({// Players: from anywhere.
                          {{"ports", Ports({"telnet", "web"})}},
                          {{"ports", Ports({"control"})}, {"from", Json::array({Clients(hm)})}},
                          {{"ports", Ports({"ops"})}, {"from", metrics_from}}})));
  // Backup Pods serve nothing: no ingress at all.
  if (hm.spec.backup.enabled) out.push_back(Policy(hm, "backup", "backup", Json::array()));
  if (hm.spec.database.managed) {
    out.push_back(
        Policy(hm, "postgres", "database",
               Json::array({{{"ports", Ports({"postgres"})},
                             {"from", Json::array({PodsOf(hm, "core"), PodsOf(hm, "backup")})}}})));
  }
  return out;
}

}  // namespace holomush::op::resources
