// Scenarios: the load-generator clients, pacing, latency, delivery verification and the report.
#pragma once

#include <string>

#include "adapter.hpp"

namespace rounds::loadgen {

struct RunOptions {
  std::string scenario;          // fanout | direct | idle | reconnect
  int members = 100;             // fanout: members of the one room
  int senders = 0;               // fanout: members that post (0: all of them)
  int users = 1000;              // direct: online users, in pairs
  int connections = 5000;        // idle: sockets (one user each)
  int clients = 5000;            // reconnect: clients, in pairs
  double rate = 200;             // offered messages per second, over all senders
  double seconds = 10;           // sending time per run (per step with --ramp)
  bool ramp = false;             // fanout/direct: multiply the rate by ramp_factor until saturation
  double ramp_factor = 2;
  int ramp_steps = 8;
  // After the step that saturated: steps half-way between the fastest rate that did not and the
  // slowest that did, each narrowing that interval by half.
  int ramp_refine = 0;
  double drain_seconds = 10;     // after sending, how long to wait for the last deliveries
  double settle_seconds = 2;     // after connecting: before traffic, or (idle) before reading RSS
  int threads = 2;
  int connect_concurrency = 256;
  double connect_rate = 0;       // new connections per second over all threads (0: as fast as they go)
  int source_ips = 1;            // bind clients to 127.0.0.1..N to get past ~28k ephemeral ports
  int server_pid = 0;            // for CPU and RSS from /proc
  std::string json_file;         // append JSON lines here instead of stdout
  std::string label;             // free text copied into the JSON (e.g. the server's name)
};

// Runs the scenario and prints the summary and JSON. Returns the process exit code: 0 when every
// run verified, 1 when a message was lost, duplicated or reordered or a run failed, 2 on bad usage.
int RunScenario(const RunOptions& options, Adapter& adapter);

}  // namespace rounds::loadgen
