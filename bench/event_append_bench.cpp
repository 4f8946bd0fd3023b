// Persisted events per second: group commit (EventWriter) against one transaction per event,
// for 1 and 16 concurrent writers, on a private PostgreSQL with synchronous_commit on.
//
//   event_append_bench [--seconds N] [--writers 1,16] [--synchronous-commit on|off]
#include <prometheus/registry.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <sstream>
#include <thread>

#include "core_metrics.hpp"
#include "events/event_writer.hpp"
#include "holomush/common/local_postgres.hpp"
#include "holomush/common/ulid.hpp"
#include "store/database.hpp"
#include "store/migrations.hpp"
#include "store/pg_store.hpp"

using namespace holomush;
using namespace std::chrono;

namespace {

core::EventRecord SampleEvent(int writer) {
  core::EventRecord e;
  e.stream = "location:00000000-0000-0000-0000-00000000000" + std::to_string(writer % 10);
  e.type = "say";
  e.actor_name = "Bench";
  e.payload = {{"message", "The quick brown fox jumps over the lazy dog."}};
  return e;
}

// Each writer keeps one append outstanding, like a player waiting for their say to commit.
double RunGroupCommit(core::PgStore& store, core::CoreMetrics& metrics, int writers,
                      seconds run_for) {
  core::EventWriter writer(store, metrics);
  writer.Start();
  std::atomic<long> done{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int w = 0; w < writers; ++w) {
    threads.emplace_back([&, w] {
      std::mutex mu;
      std::condition_variable cv;
      while (!stop) {
        bool finished = false;
        writer.Append(SampleEvent(w), [&](const common::Status& s, const core::EventRecord&) {
          if (s) ++done;
          std::lock_guard lock(mu);
          finished = true;
          cv.notify_one();
        });
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return finished; });
      }
    });
  }
  auto start = steady_clock::now();
  std::this_thread::sleep_for(run_for);
  stop = true;
  for (auto& t : threads) t.join();
  double secs = duration_cast<duration<double>>(steady_clock::now() - start).count();
  writer.Stop();
  return static_cast<double>(done) / secs;
}

double RunSingleTransactions(core::PgStore& store, int writers, seconds run_for) {
  std::atomic<long> done{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (int w = 0; w < writers; ++w) {
    threads.emplace_back([&, w] {
      common::UlidGenerator ids;
      while (!stop) {
        auto e = SampleEvent(w);
        e.id = ids.Next();
        e.unix_millis = duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
        if (store.AppendBatch({e}, core::kEventsChannel)) ++done;
      }
    });
  }
  auto start = steady_clock::now();
  std::this_thread::sleep_for(run_for);
  stop = true;
  for (auto& t : threads) t.join();
  double secs = duration_cast<duration<double>>(steady_clock::now() - start).count();
  return static_cast<double>(done) / secs;
}

}  // namespace

int main(int argc, char** argv) {
  int seconds_each = 5;
  std::vector<int> writer_counts = {1, 16};
  std::string sync = "on";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--seconds") seconds_each = std::stoi(argv[i + 1]);
    if (flag == "--synchronous-commit") sync = argv[i + 1];
    if (flag == "--writers") {
      writer_counts.clear();
      std::stringstream ss(argv[i + 1]);
      for (std::string n; std::getline(ss, n, ',');) writer_counts.push_back(std::stoi(n));
    }
  }
  auto dir =
      std::filesystem::temp_directory_path() / ("holomush-bench-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  if (geteuid() == 0) std::system(("chown postgres " + dir.string()).c_str());
  int port = 20000 + getpid() % 20000;
  common::LocalPostgres pg(
      {.data_dir = (dir / "data").string(),
       .port = port,
       .settings = {"synchronous_commit = " + sync, "fsync = on", "max_wal_size = 2GB"}});
  pg.InitIfNeeded();
  pg.Start();
  pg.CreateDatabaseIfMissing("bench");
  const std::string url = pg.Url("bench");
  {
    pqxx::connection conn(url);
    core::MigrateUp(conn);
  }
  core::Database db(url, 32, seconds(5));
  core::PgStore store(db);
  prometheus::Registry registry;
  core::CoreMetrics metrics(registry);
  // A listener, as in core, so NOTIFY has someone to queue for.
  pqxx::connection listener(url);
  pqxx::nontransaction(listener).exec("LISTEN holomush_events");

  std::printf("event append benchmark: synchronous_commit=%s, %d s per run, %u cpus\n",
              sync.c_str(), seconds_each, std::thread::hardware_concurrency());
  std::printf("%-34s %8s %14s\n", "mode", "writers", "events/s");
  for (int writers : writer_counts) {
    double single = RunSingleTransactions(store, writers, seconds(seconds_each));
    std::printf("%-34s %8d %14.0f\n", "one transaction per event", writers, single);
    double group = RunGroupCommit(store, metrics, writers, seconds(seconds_each));
    std::printf("%-34s %8d %14.0f\n", "group commit (EventWriter)", writers, group);
    std::fflush(stdout);
    // Drain the listener's queue between runs.
    listener.get_notifs();
  }
  pg.Stop();
  std::filesystem::remove_all(dir);
  return 0;
}
