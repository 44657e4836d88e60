#include "transport/metrics.hpp"

#include <sstream>

namespace rounds::transport {

void Metrics::RecordRequest(const std::string& method, const std::string& route, int status, double seconds) {
  std::lock_guard lock(mutex_);
  ++requests_[{method, route, status}];
  Histogram& h = latency_[route];
  for (std::size_t i = 0; i < std::size(kBounds); ++i) {
    if (seconds <= kBounds[i]) ++h.counts[i];
  }
  ++h.total;
  h.sum += seconds;
}

std::string Metrics::RenderEmergencyGrants(const std::optional<store::GrantCounts>& grants) {
  if (!grants) return {};
  std::ostringstream out;
  out << "# HELP rounds_emergency_grants_active Emergency access (break-the-glass) grants running now.\n"
      << "# TYPE rounds_emergency_grants_active gauge\nrounds_emergency_grants_active " << grants->active << "\n"
      << "# HELP rounds_emergency_grants_unreviewed Emergency access grants that are over and wait for a compliance officer's review.\n"
      << "# TYPE rounds_emergency_grants_unreviewed gauge\nrounds_emergency_grants_unreviewed " << grants->unreviewed
      << "\n";
  return out.str();
}

std::string Metrics::RenderAuditVerification(std::optional<bool> ok, std::int64_t checked_at_millis, bool running) {
  std::ostringstream out;
  if (ok) {
    out << "# HELP rounds_audit_chain_verified Whether the last verification found the audit chain intact (1) or broken (0).\n"
        << "# TYPE rounds_audit_chain_verified gauge\nrounds_audit_chain_verified " << (*ok ? 1 : 0) << "\n"
        << "# HELP rounds_audit_chain_verified_timestamp_seconds When the last verification reached its verdict.\n"
        << "# TYPE rounds_audit_chain_verified_timestamp_seconds gauge\nrounds_audit_chain_verified_timestamp_seconds "
        << checked_at_millis / 1000 << "\n";
  }
  out << "# HELP rounds_audit_verification_running Whether a verification of the audit chain is running.\n"
      << "# TYPE rounds_audit_verification_running gauge\nrounds_audit_verification_running " << (running ? 1 : 0) << "\n";
  return out.str();
}

std::string Metrics::RenderAuditWitness(const std::optional<app::AuditWitness::Stats>& witness) {
  if (!witness) return {};
  std::ostringstream out;
  out << "# HELP rounds_audit_witness_connected Whether the audit witness's collector is connected.\n"
      << "# TYPE rounds_audit_witness_connected gauge\nrounds_audit_witness_connected " << (witness->connected ? 1 : 0)
      << "\n"
      << "# HELP rounds_audit_witness_pending Checkpoints and alerts waiting to go to the audit witness.\n"
      << "# TYPE rounds_audit_witness_pending gauge\nrounds_audit_witness_pending " << witness->pending << "\n"
      << "# HELP rounds_audit_witness_sent_total Messages the audit witness's connection took.\n"
      << "# TYPE rounds_audit_witness_sent_total counter\nrounds_audit_witness_sent_total " << witness->sent << "\n"
      << "# HELP rounds_audit_witness_dropped_total Messages dropped from the audit witness's full queue.\n"
      << "# TYPE rounds_audit_witness_dropped_total counter\nrounds_audit_witness_dropped_total " << witness->dropped
      << "\n";
  if (witness->feeding) {
    out << "# HELP rounds_audit_feed_sent_total Audit records the audit feed sent to the collector.\n"
        << "# TYPE rounds_audit_feed_sent_total counter\nrounds_audit_feed_sent_total " << witness->feed_sent << "\n"
        << "# HELP rounds_audit_feed_behind Audit records on the trail the audit feed has not sent yet.\n"
        << "# TYPE rounds_audit_feed_behind gauge\nrounds_audit_feed_behind " << witness->feed_behind << "\n";
  }
  return out.str();
}

std::string Metrics::RenderClockSync(const std::optional<ClockSync>& sync) {
  if (!sync) return {};
  std::ostringstream out;
  out << "# HELP rounds_clock_synchronized Whether the kernel's clock is disciplined by a time source (NTP, chrony).\n"
      << "# TYPE rounds_clock_synchronized gauge\nrounds_clock_synchronized " << (sync->synchronized ? 1 : 0) << "\n"
      << "# HELP rounds_clock_max_error_seconds The kernel's bound on the clock's error; audit times are this clock's.\n"
      << "# TYPE rounds_clock_max_error_seconds gauge\nrounds_clock_max_error_seconds " << sync->max_error_seconds
      << "\n";
  return out.str();
}

std::string Metrics::RenderRequestBodies(std::int64_t held, std::int64_t limit) {
  std::ostringstream out;
  out << "# HELP rounds_http_body_bytes_held Bytes of the request bodies being read or handled now.\n"
      << "# TYPE rounds_http_body_bytes_held gauge\nrounds_http_body_bytes_held " << held << "\n"
      << "# HELP rounds_http_body_bytes_limit max_body_bytes_in_flight: the most the request bodies may hold at once.\n"
      << "# TYPE rounds_http_body_bytes_limit gauge\nrounds_http_body_bytes_limit " << limit << "\n";
  return out.str();
}

std::string Metrics::RenderPageCache(std::uint64_t hits, std::uint64_t misses, std::uint64_t entries,
                                     std::uint64_t bytes, std::uint64_t trusted) {
  std::ostringstream out;
  out << "# HELP rounds_page_cache_hits_total Pages of messages served as kept, without reading the messages.\n"
      << "# TYPE rounds_page_cache_hits_total counter\nrounds_page_cache_hits_total " << hits << "\n"
      << "# HELP rounds_page_cache_trusted_checks_total Kept pages answered on the strength of the same reader's "
         "check of the same page moments before, with nothing committed since that could change it: no read "
         "transaction.\n"
      << "# TYPE rounds_page_cache_trusted_checks_total counter\nrounds_page_cache_trusted_checks_total " << trusted
      << "\n"
      << "# HELP rounds_page_cache_misses_total Pages of messages that could be kept but were read and rendered.\n"
      << "# TYPE rounds_page_cache_misses_total counter\nrounds_page_cache_misses_total " << misses << "\n"
      << "# HELP rounds_page_cache_entries Pages of messages kept.\n"
      << "# TYPE rounds_page_cache_entries gauge\nrounds_page_cache_entries " << entries << "\n"
      << "# HELP rounds_page_cache_bytes Memory held by the kept pages.\n"
      << "# TYPE rounds_page_cache_bytes gauge\nrounds_page_cache_bytes " << bytes << "\n";
  return out.str();
}

std::string Metrics::Render(const store::StoreMetrics& store) const {
  std::ostringstream out;
  out << "# HELP rounds_http_requests_total HTTP requests by route template and status.\n"
      << "# TYPE rounds_http_requests_total counter\n";
  std::lock_guard lock(mutex_);
  for (const auto& [key, count] : requests_) {
    const auto& [method, route, status] = key;
    out << "rounds_http_requests_total{method=\"" << method << "\",route=\"" << route << "\",status=\"" << status
        << "\"} " << count << "\n";
  }
  out << "# HELP rounds_http_request_duration_seconds HTTP request latency by route template.\n"
      << "# TYPE rounds_http_request_duration_seconds histogram\n";
  for (const auto& [route, h] : latency_) {
    for (std::size_t i = 0; i < std::size(kBounds); ++i) {
      out << "rounds_http_request_duration_seconds_bucket{route=\"" << route << "\",le=\"" << kBounds[i] << "\"} "
          << h.counts[i] << "\n";
    }
    out << "rounds_http_request_duration_seconds_bucket{route=\"" << route << "\",le=\"+Inf\"} " << h.total << "\n"
        << "rounds_http_request_duration_seconds_sum{route=\"" << route << "\"} " << h.sum << "\n"
        << "rounds_http_request_duration_seconds_count{route=\"" << route << "\"} " << h.total << "\n";
  }
  out << "# HELP rounds_http_answered_on_io_thread_total Requests answered on their I/O thread (kept pages), not handed to the pool.\n"
      << "# TYPE rounds_http_answered_on_io_thread_total counter\nrounds_http_answered_on_io_thread_total " << quick_answers_.load() << "\n";
  out << "# HELP rounds_http_answered_after_commit_total Requests taken on their I/O thread and answered once their write was durable, with no thread waiting meanwhile (posts).\n"
      << "# TYPE rounds_http_answered_after_commit_total counter\nrounds_http_answered_after_commit_total " << async_answers_.load() << "\n";
  out << "# HELP rounds_http_bodies_refused_busy_total Requests refused (503) before their body was read: the bodies already being taken in used max_body_bytes_in_flight.\n"
      << "# TYPE rounds_http_bodies_refused_busy_total counter\nrounds_http_bodies_refused_busy_total " << bodies_refused_busy_.load() << "\n";
  out << "# HELP rounds_websockets_open Open WebSocket connections.\n# TYPE rounds_websockets_open gauge\n"
      << "rounds_websockets_open " << open_sockets_.load() << "\n"
      << "# HELP rounds_websockets_dropped_slow_total Sockets closed because their send queue overflowed.\n"
      << "# TYPE rounds_websockets_dropped_slow_total counter\nrounds_websockets_dropped_slow_total " << slow_drops_.load() << "\n"
      << "# HELP rounds_websockets_dropped_flooding_total WebSockets closed (4029) for sending frames faster than a client does.\n"
      << "# TYPE rounds_websockets_dropped_flooding_total counter\nrounds_websockets_dropped_flooding_total " << flooding_drops_.load() << "\n"
      << "# HELP rounds_websocket_gap_fills_total Holes in a socket's event sequence filled from the store.\n"
      << "# TYPE rounds_websocket_gap_fills_total counter\nrounds_websocket_gap_fills_total " << gap_fills_.load() << "\n"
      << "# HELP rounds_messages_stored_total Messages stored (durably committed) since start.\n"
      << "# TYPE rounds_messages_stored_total counter\nrounds_messages_stored_total " << messages_stored_.load() << "\n"
      << "# HELP rounds_store_write_units_total Write units committed by the store writer.\n"
      << "# TYPE rounds_store_write_units_total counter\nrounds_store_write_units_total " << store.write_units << "\n"
      << "# HELP rounds_store_failed_units_total Write units rolled back.\n"
      << "# TYPE rounds_store_failed_units_total counter\nrounds_store_failed_units_total " << store.failed_units << "\n"
      << "# HELP rounds_store_batch_units Units per group-commit transaction.\n# TYPE rounds_store_batch_units histogram\n";
  for (const auto& [bound, count] : store.batch_size_buckets) {
    out << "rounds_store_batch_units_bucket{le=\"" << bound << "\"} " << count << "\n";
  }
  out << "rounds_store_batch_units_bucket{le=\"+Inf\"} " << store.write_batches << "\n"
      << "rounds_store_batch_units_sum " << (store.write_units + store.failed_units) << "\n"
      << "rounds_store_batch_units_count " << store.write_batches << "\n"
      << "# HELP rounds_store_commit_seconds Group-commit latency (including fsync).\n"
      << "# TYPE rounds_store_commit_seconds histogram\n";
  for (const auto& [bound, count] : store.commit_micros_buckets) {
    out << "rounds_store_commit_seconds_bucket{le=\"" << bound / 1e6 << "\"} " << count << "\n";
  }
  out << "rounds_store_commit_seconds_bucket{le=\"+Inf\"} " << store.write_batches << "\n"
      << "rounds_store_commit_seconds_sum " << store.commit_micros_sum / 1e6 << "\n"
      << "rounds_store_commit_seconds_count " << store.write_batches << "\n"
      << "# HELP rounds_store_log_writes_total Write-ahead log writes requested by SQLite and issued after gathering each transaction's frames.\n"
      << "# TYPE rounds_store_log_writes_total counter\n"
      << "rounds_store_log_writes_total{stage=\"requested\"} " << store.log_writes_requested << "\n"
      << "rounds_store_log_writes_total{stage=\"issued\"} " << store.log_writes_issued << "\n"
      << "# HELP rounds_store_checkpoints_total Copies of the write-ahead log into the database by the checkpointer thread, off the commit path.\n"
      << "# TYPE rounds_store_checkpoints_total counter\nrounds_store_checkpoints_total " << store.checkpoints << "\n"
      << "# HELP rounds_store_checkpoint_seconds_total Time the checkpointer thread spent copying the log and syncing the copy.\n"
      << "# TYPE rounds_store_checkpoint_seconds_total counter\nrounds_store_checkpoint_seconds_total "
      << store.checkpoint_micros_sum / 1e6 << "\n"
      << "# HELP rounds_store_writer_checkpoints_total Commits that copied the write-ahead log themselves because it reached the writer's bound; writes queued behind them wait.\n"
      << "# TYPE rounds_store_writer_checkpoints_total counter\nrounds_store_writer_checkpoints_total "
      << store.writer_checkpoints << "\n"
      << "# HELP rounds_store_writer_catch_ups_total Commits that copied the short rest of the write-ahead log the checkpointer left, so that the log starts over.\n"
      << "# TYPE rounds_store_writer_catch_ups_total counter\nrounds_store_writer_catch_ups_total "
      << store.writer_catch_ups << "\n"
      << "# HELP rounds_store_writer_checkpoint_seconds_total Time the writer's own copies of the whole log held their commits up.\n"
      << "# TYPE rounds_store_writer_checkpoint_seconds_total counter\nrounds_store_writer_checkpoint_seconds_total "
      << store.writer_checkpoint_micros_sum / 1e6 << "\n"
      << "# HELP rounds_store_writer_catch_up_seconds_total Time the writer's catch-ups (copying the rest of the log and syncing it) held their commits up.\n"
      << "# TYPE rounds_store_writer_catch_up_seconds_total counter\nrounds_store_writer_catch_up_seconds_total "
      << store.writer_catch_up_micros_sum / 1e6 << "\n"
      << "# HELP rounds_store_encrypted Whether the database, its write-ahead log and its backups are encrypted at rest.\n"
      << "# TYPE rounds_store_encrypted gauge\nrounds_store_encrypted " << (store.encrypted ? 1 : 0) << "\n"
      << "# HELP rounds_store_pages_total Database pages encrypted on their way to a file, decrypted on their way in, and refused because they did not authenticate (a changed byte, or a torn write at the end of the log after a crash).\n"
      << "# TYPE rounds_store_pages_total counter\n"
      << "rounds_store_pages_total{op=\"sealed\"} " << store.pages_sealed << "\n"
      << "rounds_store_pages_total{op=\"opened\"} " << store.pages_opened << "\n"
      << "rounds_store_pages_total{op=\"rejected\"} " << store.pages_rejected << "\n"
      << "# HELP rounds_store_log_frames Frames in the write-ahead log after the last commit.\n"
      << "# TYPE rounds_store_log_frames gauge\nrounds_store_log_frames " << store.log_frames << "\n"
      << "# HELP rounds_store_audit_index_runs_total Passes of the writer that fill the audit trail's search indexes.\n"
      << "# TYPE rounds_store_audit_index_runs_total counter\nrounds_store_audit_index_runs_total "
      << store.audit_index_runs << "\n"
      << "# HELP rounds_store_audit_index_seconds_total Time the writer spent filling the audit trail's search indexes.\n"
      << "# TYPE rounds_store_audit_index_seconds_total counter\nrounds_store_audit_index_seconds_total "
      << store.audit_index_micros_sum / 1e6 << "\n"
      << "# HELP rounds_store_search_index_runs_total Passes of the writer that apply queued message changes to the search index.\n"
      << "# TYPE rounds_store_search_index_runs_total counter\nrounds_store_search_index_runs_total "
      << store.search_index_runs << "\n"
      << "# HELP rounds_store_search_index_changes_total Message changes applied to the search index.\n"
      << "# TYPE rounds_store_search_index_changes_total counter\nrounds_store_search_index_changes_total "
      << store.search_index_rows << "\n"
      << "# HELP rounds_store_search_index_seconds_total Time the writer spent applying changes to the search index.\n"
      << "# TYPE rounds_store_search_index_seconds_total counter\nrounds_store_search_index_seconds_total "
      << store.search_index_micros_sum / 1e6 << "\n";
  return out.str();
}

}  // namespace rounds::transport
