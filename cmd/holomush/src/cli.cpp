#include "holomush/cli/cli.hpp"

#include <CLI/CLI.hpp>
#include <iostream>
#include <map>
#include <memory>

#include "holomush/common/certs.hpp"
#include "holomush/common/config.hpp"
#include "holomush/common/shutdown.hpp"
#include "holomush/common/version.hpp"
#include "holomush/core/server.hpp"
#include "holomush/gateway/server.hpp"
#include "settings_flags.hpp"
#include "subcommands.hpp"

namespace holomush::cli {

int Main(int argc, char** argv) {
  CLI::App app{"HoloMUSH: a multi-user text world server", "holomush"};
  app.set_version_flag("--version", std::string("holomush ") + common::kVersion);
  app.require_subcommand(1);

  auto* core_app = app.add_subcommand("core", "run the game engine");
  SettingsFlags core_flags(core::CoreSettings());
  core_flags.Register(core_app);
  auto* gateway_app = app.add_subcommand("gateway", "run the telnet and WebSocket gateway");
  SettingsFlags gateway_flags(gateway::GatewaySettings());
  gateway_flags.Register(gateway_app);

  auto* certs = app.add_subcommand("certs", "manage TLS certificates");
  certs->require_subcommand(1);
  auto* certs_init =
      certs->add_subcommand("init", "create a CA and core, gateway, cli certificates");
  std::string certs_dir;
  std::vector<std::string> sans;
  int days = 365;
  certs_init->add_option("--dir", certs_dir, "output directory")->required();
  certs_init->add_option("--san", sans, "extra subject alternative name (repeatable)");
  certs_init->add_option("--days", days, "leaf validity in days")->check(CLI::Range(1, 3650));

  std::vector<std::unique_ptr<Subcommand>> extra = Subcommands();
  for (auto& sub : extra) sub->Register(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "holomush: " << e.what() << "\n\n" << app.help("", CLI::AppFormatMode::Normal);
    return 2;
  }

  try {
    if (*core_app) {
      common::ShutdownSignal shutdown;
      return core::RunCore(core_flags.Load(), shutdown);
    }
    if (*gateway_app) {
      common::ShutdownSignal shutdown;
      return gateway::RunGateway(gateway_flags.Load(), shutdown);
    }
    if (*certs_init) {
      common::CertificateOptions options{.extra_sans = sans, .validity_days = days};
      common::WriteCertificateSet(common::GenerateCertificateSet(options), certs_dir);
      std::cout << "wrote ca, core, gateway and cli certificates to " << certs_dir << "\n";
      return 0;
    }
    for (auto& sub : extra) {
      if (sub->Parsed()) return sub->Run();
    }
  } catch (const common::ConfigError& e) {
    std::cerr << "holomush: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "holomush: " << e.what() << "\n";
    return 1;
  }
  return 2;
}

}  // namespace holomush::cli
