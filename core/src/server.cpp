#include "holomush/core/server.hpp"

#include <google/protobuf/descriptor.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/server_builder.h>
#include <prometheus/registry.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <condition_variable>
#include <thread>

#include "core_metrics.hpp"
#include "events/event_writer.hpp"
#include "events/listen_hub.hpp"
#include "game/commands/command_table.hpp"
#include "game/game.hpp"
#include "game/render.hpp"
#include "holomush/common/grpc_health.hpp"
#include "holomush/common/health.hpp"
#include "holomush/common/process_metrics.hpp"
#include "holomush/common/service.hpp"
#include "holomush/common/thread_name.hpp"
#include "holomush/common/tls.hpp"
#include "service/grpc_metrics_interceptor.hpp"
#include "service/grpc_service.hpp"
#include "store/database.hpp"
#include "store/migrations.hpp"
#include "store/pg_store.hpp"

namespace holomush::core {
namespace {

using common::SettingKind;

// Applies or checks migrations at start. A database that is not up yet is waited for (a pod
// may start before its database); one newer than this binary is refused at once.
// The label values holomush_commands_total can take: every command's canonical name, plus
// "unknown" and "alias" (an expansion refused).
std::vector<std::string> KnownCommandLabels() {
  std::vector<std::string> labels = {"unknown", "alias"};
  for (const auto& spec : CommandTable()) {
    const std::string canonical(spec.canonical);
    if (std::find(labels.begin(), labels.end(), canonical) == labels.end()) {
      labels.push_back(canonical);
    }
  }
  return labels;
}

// Every method core serves, from the services' descriptors.
std::vector<std::string> KnownGrpcMethods() {
  std::vector<std::string> methods;
  const auto* pool = google::protobuf::DescriptorPool::generated_pool();
  for (const char* service :
       {"holomush.core.v1.Game", "holomush.core.v1.Control", "grpc.health.v1.Health"}) {
    const auto* descriptor = pool->FindServiceByName(service);
    if (descriptor == nullptr) continue;
    for (int i = 0; i < descriptor->method_count(); ++i) {
      methods.push_back(descriptor->method(i)->name());
    }
  }
  return methods;
}

void PrepareSchema(const std::string& url, bool auto_migrate, const common::Logger& log,
                   common::ShutdownSignal& shutdown) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (true) {
    try {
      pqxx::connection conn(url);
      if (auto_migrate) {
        for (const auto& m : MigrateUp(conn)) log.Info("migration applied", {{"migration", m}});
      } else {
        auto status = GetMigrationStatus(conn);
        if (status.current > status.latest) MigrateUp(conn);  // throws the "newer" message
        if (status.current < status.latest) {
          throw std::runtime_error(
              "database schema is at version " + std::to_string(status.current) +
              ", this binary needs " + std::to_string(status.latest) +
              ": run `holomush migrate up` or set HOLOMUSH_DB_AUTO_MIGRATE=true");
        }
      }
      return;
    } catch (const pqxx::broken_connection& e) {
      if (std::chrono::steady_clock::now() > deadline || shutdown.Requested()) {
        throw std::runtime_error(std::string("cannot connect to the database: ") + e.what());
      }
      log.Warn("database not reachable yet; retrying", {{"error", e.what()}});
      shutdown.WaitFor(std::chrono::seconds(1));
    }
  }
}

// Everything core runs; built in start(), torn down in stop().
struct CoreRuntime {
  std::unique_ptr<Database> db;
  std::unique_ptr<PgStore> store;
  std::unique_ptr<CoreMetrics> metrics;
  std::unique_ptr<ListenHub> hub;
  std::unique_ptr<EventWriter> writer;
  std::unique_ptr<boost::asio::thread_pool> pool;
  std::unique_ptr<boost::asio::thread_pool> password_pool;
  // Liveness: a beat through each pool every second (declared after the pools: stopped first).
  std::unique_ptr<common::ExecutorHeartbeat> pool_heartbeat;
  std::unique_ptr<common::ExecutorHeartbeat> password_heartbeat;
  std::unique_ptr<SessionRegistry> registry;
  std::unique_ptr<Game> game;
  std::unique_ptr<GameService> game_service;
  std::unique_ptr<ControlService> control_service;
  std::unique_ptr<grpc::Server> server;
  std::thread monitor;
  std::mutex mu;
  std::condition_variable cv;
  bool stopping = false;
};

// Readiness checks and housekeeping, once a second on its own thread.
void Monitor(CoreRuntime& rt, common::Health& health) {
  int tick = 0;
  std::unique_lock lock(rt.mu);
  while (!rt.stopping) {
    lock.unlock();
    auto ping =
        rt.db->Transact<int>([](pqxx::work& txn) { return CurrentSchemaVersion(txn); }, false);
    if (!ping) {
      health.Set("database", false, ping.error().message);
    } else {
      health.Set("database", true);
      health.Set("migrations", *ping == LatestSchemaVersion(),
                 "schema version " + std::to_string(*ping) + ", this binary expects " +
                     std::to_string(LatestSchemaVersion()));
      if (++tick % 5 == 0) rt.game->ExpireSessions();
    }
    lock.lock();
    rt.cv.wait_for(lock, std::chrono::seconds(1), [&] { return rt.stopping; });
  }
}

}  // namespace

std::vector<common::SettingSpec> CoreSettings() {
  auto specs = common::CommonSettings();
  specs.push_back({.name = "grpc-addr",
                   .kind = SettingKind::kAddress,
                   .default_value = "0.0.0.0:9000",
                   .help = "gRPC listen address (mTLS)"});
  specs.push_back({.name = "ops-addr",
                   .kind = SettingKind::kAddress,
                   .default_value = "0.0.0.0:9100",
                   .help = "ops HTTP listen address (health, metrics)"});
  specs.push_back({.name = "database-url",
                   .kind = SettingKind::kString,
                   .help = "PostgreSQL URL or keyword string",
                   .env = "DATABASE_URL",
                   .required = true,
                   .secret = true});
  specs.push_back({.name = "db-pool-size",
                   .kind = SettingKind::kInt,
                   .default_value = "16",
                   .help = "database connections in the pool",
                   .min = 1,
                   .max = 500});
  specs.push_back({.name = "db-auto-migrate",
                   .kind = SettingKind::kBool,
                   .default_value = "true",
                   .help = "apply pending migrations at start"});
  specs.push_back({.name = "exit-match-threshold",
                   .kind = SettingKind::kFloat,
                   .default_value = "0.3",
                   .help = "pg_trgm similarity an exit name must exceed to match a typo",
                   .min = 0,
                   .max = 1});
  specs.push_back({.name = "session-linger",
                   .kind = SettingKind::kDuration,
                   .default_value = "10m",
                   .help = "how long a dropped session waits to be resumed"});
  specs.push_back({.name = "worker-threads",
                   .kind = SettingKind::kInt,
                   .default_value = "8",
                   .help = "threads running commands and database calls",
                   .min = 1,
                   .max = 256});
  specs.push_back({.name = "command-rate",
                   .kind = SettingKind::kFloat,
                   .default_value = "10",
                   .help = "commands per second one session may send (flood control)",
                   .min = 1,
                   .max = 10000});
  specs.push_back({.name = "command-burst",
                   .kind = SettingKind::kInt,
                   .default_value = "60",
                   .help = "commands one session may send at once before command-rate applies "
                           "(a pasted block of lines)",
                   .min = 1,
                   .max = 100000});
  specs.push_back({.name = "password-queue",
                   .kind = SettingKind::kInt,
                   .default_value = "64",
                   .help = "logins and account creations waiting or running on the password "
                           "threads at once; more are refused as busy at once",
                   .min = 1,
                   .max = 100000});
  specs.push_back({.name = "password-threads",
                   .kind = SettingKind::kInt,
                   .default_value = "1",
                   .help = "threads hashing and checking passwords (argon2id, 19 MiB each); "
                           "logins beyond them wait their turn instead of slowing the game",
                   .min = 1,
                   .max = 64});
  return specs;
}

int RunCore(const common::Config& config, common::ShutdownSignal& shutdown) {
  common::ConfigureLoggingFrom(config);
  common::ServiceContext ctx{.component = "core",
                             .log = common::Logger("core"),
                             .registry = std::make_shared<prometheus::Registry>(),
                             .shutdown = &shutdown};
  common::ProcessMetrics process_metrics(*ctx.registry, "core", ctx.health);
  CoreRuntime rt;
  rt.metrics = std::make_unique<CoreMetrics>(*ctx.registry);
  rt.metrics->ExportKnownLabels(KnownCommandLabels(), KnownEventTypes(), KnownGrpcMethods());
  ctx.health.Set("database", false, "not checked yet");

  auto start = [&] {
    const std::string url = config.String("database-url");
    const std::string tls_dir = config.String("tls-dir");
    auto credentials = common::MutualTlsServerCredentials(tls_dir, "core", {"gateway", "cli"});
    process_metrics.RecordCertificates(tls_dir, "core");
    PrepareSchema(url, config.Bool("db-auto-migrate"), ctx.log, shutdown);

    rt.db = std::make_unique<Database>(WithConnectionSettings(url, "holomush-core"),
                                       static_cast<int>(config.Int("db-pool-size")),
                                       std::chrono::seconds(5));
    rt.store = std::make_unique<PgStore>(*rt.db);
    rt.hub = std::make_unique<ListenHub>(WithConnectionSettings(url, "holomush-core-listener"),
                                         *rt.store, ctx.health);
    rt.writer = std::make_unique<EventWriter>(
        *rt.store, *rt.metrics, ctx.health.AddHeartbeat("event writer", std::chrono::seconds(30)),
        ctx.health.AddHeartbeat("event delivery", std::chrono::seconds(30)));
    auto* hub = rt.hub.get();
    rt.writer->Observe({.prepared = [hub](const auto& events) { hub->Remember(events); },
                        .committed = [hub](const auto& events) { hub->Publish(events); },
                        .aborted = [hub](const auto& events) { hub->Forget(events); }});
    const int workers = static_cast<int>(config.Int("worker-threads"));
    const int hashers = static_cast<int>(config.Int("password-threads"));
    rt.pool = std::make_unique<boost::asio::thread_pool>(workers);
    rt.password_pool = std::make_unique<boost::asio::thread_pool>(hashers);
    common::NameEveryThread(*rt.pool, workers, "holomush-work");
    common::NameEveryThread(*rt.password_pool, hashers, "holomush-pass");
    // A command or a password hash can hold a worker for a while (database calls end within
    // the connection's timeouts); a minute of silence means every worker is stuck.
    auto through = [](boost::asio::thread_pool& pool) {
      return [&pool](std::function<void()> beat) { boost::asio::post(pool, std::move(beat)); };
    };
    rt.pool_heartbeat = std::make_unique<common::ExecutorHeartbeat>(
        ctx.health.AddHeartbeat("command workers", std::chrono::seconds(60)), through(*rt.pool));
    rt.password_heartbeat = std::make_unique<common::ExecutorHeartbeat>(
        ctx.health.AddHeartbeat("password workers", std::chrono::seconds(60)),
        through(*rt.password_pool));
    rt.registry = std::make_unique<SessionRegistry>();
    GameOptions options{.exit_match_threshold = config.Float("exit-match-threshold"),
                        .session_linger = std::chrono::duration_cast<std::chrono::seconds>(
                            config.Duration("session-linger")),
                        .flood = {.rate = config.Float("command-rate"),
                                  .burst = static_cast<double>(config.Int("command-burst"))}};
    Stores stores{*rt.store, *rt.store, *rt.store, *rt.store, *rt.store};
    rt.game = std::make_unique<Game>(stores, *rt.writer, *rt.hub, *rt.registry, *rt.metrics,
                                     rt.pool->get_executor(), options,
                                     [&shutdown] { shutdown.Request(); });
    if (auto loaded = rt.game->LoadAliases(); !loaded) {
      throw std::runtime_error("cannot load aliases: " + loaded.error().message);
    }
    rt.hub->OnNotify("holomush_aliases",
                     [game = rt.game.get()](const std::string& p) { game->OnAliasNotify(p); });
    rt.hub->OnNotify("holomush_world",
                     [game = rt.game.get()](const std::string& p) { game->world().OnNotify(p); });
    rt.hub->Start();
    rt.writer->Start();

    rt.game_service = std::make_unique<GameService>(*rt.game, *rt.metrics, rt.pool->get_executor(),
                                                    rt.password_pool->get_executor(),
                                                    static_cast<int>(config.Int("password-queue")));
    rt.control_service = std::make_unique<ControlService>("core", *rt.registry);
    grpc::EnableDefaultHealthCheckService(true);
    grpc::ServerBuilder builder;
    int port = 0;
    const auto addr = config.Address("grpc-addr");
    builder.AddListeningPort(addr.ToString(), credentials, &port);
    builder.RegisterService(rt.game_service.get());
    std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> counted;
    counted.push_back(MakeGrpcMetricsInterceptor(*rt.metrics));
    builder.experimental().SetInterceptorCreators(std::move(counted));
    builder.RegisterService(rt.control_service.get());
    rt.server = builder.BuildAndStart();
    if (!rt.server || port == 0) {
      throw std::runtime_error("cannot listen for gRPC on " + addr.ToString());
    }
    common::BindGrpcHealth(ctx.health, *rt.server);
    rt.monitor = std::thread([&] { Monitor(rt, ctx.health); });
    ctx.log.Info("grpc listening", {{"grpc_addr", addr.host + ":" + std::to_string(port)}});
  };

  auto stop = [&](std::chrono::milliseconds grace) {
    // Streams end with UNAVAILABLE, so gateways resume their sessions on another replica
    // (or on this one after a restart); sessions stay in the database.
    if (rt.server) rt.server->Shutdown(std::chrono::system_clock::now() + grace / 2);
    rt.pool_heartbeat.reset();
    rt.password_heartbeat.reset();
    if (rt.writer) rt.writer->Stop();
    {
      std::lock_guard lock(rt.mu);
      rt.stopping = true;
    }
    rt.cv.notify_all();
    if (rt.monitor.joinable()) rt.monitor.join();
    if (rt.hub) rt.hub->Stop();
    if (rt.password_pool) rt.password_pool->join();
    if (rt.pool) rt.pool->join();
  };

  return common::RunService(ctx, config, config.Address("ops-addr"),
                            {.start = start, .stop = stop});
}

}  // namespace holomush::core
