// `holomush-operator render -f game.yaml`: the children the operator would create for a
// HoloMUSH, printed without a cluster (as `helm template` is to a chart), for review and for
// the linters platform teams run before installing.
#include <fstream>
#include <iostream>
#include <stdexcept>

#include "controllers/support.hpp"
#include "holomush/operator/embedded_rules.hpp"
#include "holomush/operator/operator.hpp"
#include "holomush/operator/resources.hpp"

namespace holomush::op {
namespace {

int Usage(std::ostream& out, int code) {
  out << "usage: holomush-operator render -f FILE [--namespace NS] [--monitoring=false]\n"
         "  Prints, as YAML documents, the children the operator would create for each\n"
         "  HoloMUSH in FILE ('-' for standard input). Generated secrets (the TLS and CA\n"
         "  Secrets) are made only in the cluster and are not printed.\n";
  return code;
}

}  // namespace

int RenderCommand(int argc, char** argv) {
  std::string file;
  std::string ns_flag;
  bool monitoring = true;
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    if ((arg == "-f" || arg == "--file") && i + 1 < argc) {
      file = argv[++i];
    } else if (arg.rfind("--file=", 0) == 0) {
      file = arg.substr(7);
    } else if (arg == "--namespace" && i + 1 < argc) {
      ns_flag = argv[++i];
    } else if (arg.rfind("--namespace=", 0) == 0) {
      ns_flag = arg.substr(12);
    } else if (arg == "--monitoring=false" || arg == "--monitoring=true") {
      monitoring = arg == "--monitoring=true";
    } else if (arg == "--help" || arg == "-h") {
      return Usage(std::cout, 0);
    } else {
      std::cerr << "holomush-operator render: unexpected argument " << arg << "\n";
      return Usage(std::cerr, 2);
    }
  }
  if (file.empty()) return Usage(std::cerr, 2);

  std::vector<Json> documents;
  try {
    if (file == "-") {
      documents = resources::ParseYamlDocuments(std::cin);
    } else {
      std::ifstream in(file);
      if (!in) {
        std::cerr << "holomush-operator render: cannot read " << file << "\n";
        return 2;
      }
      documents = resources::ParseYamlDocuments(in);
    }
  } catch (const std::runtime_error& e) {
    std::cerr << "holomush-operator render: " << file << ": " << e.what() << "\n";
    return 2;
  }

  const Json rules = resources::ParseAlertRules(EmbeddedAlertRules());
  int games = 0;
  for (Json& object : documents) {
    if (!object.is_object() || object.value("kind", "") != kKind) continue;
    Json& meta = object["metadata"];
    if (!ns_flag.empty()) meta["namespace"] = ns_flag;
    if (!meta.contains("namespace")) meta["namespace"] = "default";
    if (!meta.contains("uid")) meta["uid"] = "00000000-0000-0000-0000-000000000000";
    auto hm = ParseHoloMush(object);
    if (!hm.ok()) {
      std::cerr << "holomush-operator render: " << meta.value("name", "?") << ": "
                << hm.error().message << "\n";
      return 1;
    }
    resources::RenderInput input;
    input.hm = &hm.value();
    input.monitoring_available = monitoring;
    input.alert_rules = &rules;
    if (hm->spec.database.managed) input.postgres_password = controller_support::RandomHex(16);
    std::cout << "# holomush-operator render: HoloMUSH " << hm->ns << "/" << hm->name
              << " (the <name>-tls and <name>-ca Secrets are generated in the cluster)\n";
    for (const Json& child : resources::RenderChildren(input)) {
      std::cout << "---\n" << child.dump(2) << "\n";
    }
    ++games;
  }
  if (games == 0) {
    std::cerr << "holomush-operator render: no HoloMUSH in " << file << "\n";
    return 1;
  }
  return 0;
}

}  // namespace holomush::op
