// Composition root: the command line decides what runs; `serve` wires config -> store -> bus ->
// services -> server. Only this file includes transport/.
#include <filesystem>
#include <iostream>

#include "app/database.hpp"
#include "app/services.hpp"
#include "bus/bus.hpp"
#include "cli/cli.hpp"
#include "core/crypto.hpp"
#include "core/log.hpp"
#include "store/store.hpp"
#include "transport/server.hpp"

namespace {

int Serve(const rounds::Config& config) {
  using namespace rounds;
  std::error_code ec;
  std::filesystem::create_directories(config.data_dir, ec);
  if (!config.log_file.empty()) {
    auto parent = std::filesystem::path(config.log_file).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    log::SetOutputFile(config.log_file);
  }
  if (config.log_level == "debug") log::SetMinimumLevel(log::Level::kDebug);
  if (config.log_level == "warn") log::SetMinimumLevel(log::Level::kWarn);
  if (config.log_level == "error") log::SetMinimumLevel(log::Level::kError);
  auto store = app::OpenDatabase(config, config.read_connections);
  if (!store) {
    log::Error("store_open_failed", {{"reason", store.error().public_message}, {"detail", store.error().internal_message}});
    std::cerr << "rounds: " << store.error().public_message << "\n";
    return 1;
  }
  bus::InProcessBus bus;
  SystemClock clock;
  app::Services services(**store, bus, clock, config);
  // The PHI scanner matches names and MRNs against the stored patient index.
  if (auto loaded = services.governance.LoadPatients(); !loaded) {
    log::Error("patient_index_load_failed", {{"detail", loaded.error().internal_message}});
    std::cerr << "rounds: " << loaded.error().public_message << "\n";
    return 1;
  }
  // Signed checkpoints of the audit chain, outside the database; no serving without them.
  if (auto started = services.audit.Start(); !started) {
    log::Error("audit_start_failed", {{"reason", started.error().public_message}, {"detail", started.error().internal_message}});
    std::cerr << "rounds: " << started.error().public_message << "\n";
    return 1;
  }
  if (config.demo) {
    auto accounts = app::SeedDemo(services, **store);
    if (!accounts) {
      std::cerr << "rounds: demo seeding failed: " << accounts.error().public_message << " "
                << accounts.error().internal_message << "\n";
      return 1;
    }
    std::cout << "Demo data ready. Sign in at http://" << config.listen_address << ":" << config.port
              << " with any of these accounts:\n";
    for (const auto& [username, password] : *accounts) std::cout << "  " << username << " / " << password << "\n";
    std::cout.flush();
  }
  transport::Server server(config, services, **store, bus);
  Status status = server.Run();
  services.audit.Stop();  // the server stopped it before closing the store; this covers a failed start
  if (!status) {
    std::cerr << "rounds: " << status.error().public_message << "\n";
    return 1;
  }
  return 0;
}

// Lists the routes of a server built over a throwaway in-memory store: the same registration
// code that `serve` runs, so the documentation test checks the real table.
int PrintRoutes() {
  using namespace rounds;
  log::SetMinimumLevel(log::Level::kError);
  Config config;
  auto store = store::OpenSqliteStore({.path = ":memory:", .read_connections = 1});
  if (!store) return 1;
  bus::InProcessBus bus;
  SystemClock clock;
  app::Services services(**store, bus, clock, config);
  transport::Server server(config, services, **store, bus);
  for (const auto& [method, pattern] : server.Routes()) std::cout << method << " " << pattern << "\n";
  (*store)->Close();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (!rounds::crypto::InitCrypto()) {
    std::cerr << "rounds: cannot initialise the cryptography library\n";
    return 1;
  }
  return rounds::cli::Main(argc, argv, Serve, PrintRoutes);
}
