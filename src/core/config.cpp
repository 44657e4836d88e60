#include "core/config.hpp"

#include <charconv>
#include <functional>
#include <sstream>

#include <toml++/toml.h>

extern char** environ;

namespace rounds {
namespace {

// One table of settings so the file and the environment accept exactly the same keys.
struct Setting {
  const char* key;
  std::function<Status(Config&, const std::string&)> set;
};

Status ParseInt(const std::string& key, const std::string& text, std::int64_t& out) {
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  if (ec != std::errc() || ptr != text.data() + text.size()) {
    return InvalidArgument("bad_config", "Setting '" + key + "' must be an integer.", key);
  }
  return Ok();
}

template <class T>
Setting IntSetting(const char* key, T Config::*member) {
  return {key, [key, member](Config& c, const std::string& v) -> Status {
            std::int64_t n = 0;
            ROUNDS_RETURN_IF_ERROR(ParseInt(key, v, n));
            c.*member = static_cast<T>(n);
            return Ok();
          }};
}
// An integer setting that only makes sense within [min, max]: anything else is refused, naming
// the key and the range, and changes nothing.
template <class T>
Setting BoundedIntSetting(const char* key, T Config::*member, std::int64_t min, std::int64_t max) {
  return {key, [key, member, min, max](Config& c, const std::string& v) -> Status {
            std::int64_t n = 0;
            ROUNDS_RETURN_IF_ERROR(ParseInt(key, v, n));
            if (n < min || n > max) {
              return InvalidArgument("bad_config", "Setting '" + std::string(key) + "' must be from " +
                                                       std::to_string(min) + " to " + std::to_string(max) +
                                                       ", not " + v + ".",
                                     key);
            }
            c.*member = static_cast<T>(n);
            return Ok();
          }};
}
Setting StringSetting(const char* key, std::string Config::*member) {
  return {key, [member](Config& c, const std::string& v) -> Status {
            c.*member = v;
            return Ok();
          }};
}
Setting BoolSetting(const char* key, bool Config::*member) {
  return {key, [key, member](Config& c, const std::string& v) -> Status {
            if (v == "true" || v == "1" || v == "yes") {
              c.*member = true;
            } else if (v == "false" || v == "0" || v == "no") {
              c.*member = false;
            } else {
              return InvalidArgument("bad_config", std::string("Setting '") + key +
                                                       "' must be true or false.", key);
            }
            return Ok();
          }};
}
Setting ListSetting(const char* key, std::vector<std::string> Config::*member) {
  return {key, [member](Config& c, const std::string& v) -> Status {
            (c.*member).clear();
            std::stringstream in(v);
            std::string item;
            while (std::getline(in, item, ',')) {
              if (!item.empty()) (c.*member).push_back(item);
            }
            return Ok();
          }};
}

const std::vector<Setting>& Settings() {
  static const std::vector<Setting> settings = {
      StringSetting("listen_address", &Config::listen_address),
      IntSetting("port", &Config::port),
      IntSetting("threads", &Config::threads),
      StringSetting("public_origin", &Config::public_origin),
      ListSetting("allowed_origins", &Config::allowed_origins),
      BoolSetting("trust_proxy", &Config::trust_proxy),
      StringSetting("data_dir", &Config::data_dir),
      StringSetting("database_file", &Config::database_file),
      BoolSetting("database_encryption", &Config::database_encryption),
      StringSetting("database_key_file", &Config::database_key_file),
      IntSetting("read_connections", &Config::read_connections),
      IntSetting("page_cache_bytes", &Config::page_cache_bytes),
      StringSetting("web_root", &Config::web_root),
      IntSetting("idle_timeout_seconds", &Config::idle_timeout_seconds),
      IntSetting("admin_elevation_seconds", &Config::admin_elevation_seconds),
      IntSetting("absolute_timeout_seconds", &Config::absolute_timeout_seconds),
      IntSetting("lockout_threshold", &Config::lockout_threshold),
      IntSetting("lockout_seconds", &Config::lockout_seconds),
      IntSetting("max_body_bytes", &Config::max_body_bytes),
      IntSetting("address_lockout_threshold", &Config::address_lockout_threshold),
      {"mfa_required",
       [](Config& c, const std::string& v) -> Status {
         if (v != "none" && v != "privileged" && v != "staff" && v != "all") {
           return InvalidArgument("bad_config", "Setting 'mfa_required' is none, privileged, staff or all.",
                                  "mfa_required");
         }
         c.mfa_required = v;
         return Ok();
       }},
      StringSetting("mfa_key_file", &Config::mfa_key_file),
      IntSetting("max_attachment_bytes", &Config::max_attachment_bytes),
      IntSetting("max_body_bytes_in_flight", &Config::max_body_bytes_in_flight),
      IntSetting("write_requests_per_second", &Config::write_requests_per_second),
      IntSetting("write_request_burst", &Config::write_request_burst),
      IntSetting("max_message_chars", &Config::max_message_chars),
      IntSetting("space_export_max_messages", &Config::space_export_max_messages),
      StringSetting("antivirus_address", &Config::antivirus_address),
      IntSetting("antivirus_timeout_seconds", &Config::antivirus_timeout_seconds),
      IntSetting("ws_send_queue_limit", &Config::ws_send_queue_limit),
      IntSetting("header_timeout_seconds", &Config::header_timeout_seconds),
      IntSetting("idle_connection_seconds", &Config::idle_connection_seconds),
      StringSetting("log_file", &Config::log_file),
      StringSetting("log_level", &Config::log_level),
      BoolSetting("demo", &Config::demo),
      IntSetting("retention_interval_seconds", &Config::retention_interval_seconds),
      IntSetting("emergency_sweep_seconds", &Config::emergency_sweep_seconds),
      BoundedIntSetting("retention_batch_size", &Config::retention_batch_size, 1, kMaxRetentionBatchSize),
      BoundedIntSetting("export_keep_days", &Config::export_keep_days, 0, 3650),
      StringSetting("audit_checkpoint_file", &Config::audit_checkpoint_file),
      StringSetting("audit_signing_key_file", &Config::audit_signing_key_file),
      IntSetting("audit_checkpoint_records", &Config::audit_checkpoint_records),
      IntSetting("audit_checkpoint_seconds", &Config::audit_checkpoint_seconds),
      IntSetting("audit_verify_hours", &Config::audit_verify_hours),
      BoundedIntSetting("audit_key_days", &Config::audit_key_days, 0, 3650),
      BoundedIntSetting("audit_live_read_seconds", &Config::audit_live_read_seconds, 1, 24 * 60 * 60),
      StringSetting("audit_witness", &Config::audit_witness),
      BoolSetting("audit_witness_tls", &Config::audit_witness_tls),
      StringSetting("audit_witness_ca_file", &Config::audit_witness_ca_file),
      StringSetting("audit_witness_cert_file", &Config::audit_witness_cert_file),
      StringSetting("audit_witness_key_file", &Config::audit_witness_key_file),
      StringSetting("audit_witness_crl_file", &Config::audit_witness_crl_file),
      StringSetting("audit_witness_server_name", &Config::audit_witness_server_name),
      BoolSetting("audit_feed", &Config::audit_feed),
  };
  return settings;
}

const Setting* FindSetting(std::string_view key) {
  for (const auto& s : Settings()) {
    if (key == s.key) return &s;
  }
  return nullptr;
}

}  // namespace

std::string Config::DatabasePath() const {
  return database_file.empty() ? data_dir + "/rounds.db" : database_file;
}

Status ApplyConfigFile(const std::string& path, Config& config) {
  toml::table table;
  try {
    table = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    return InvalidArgument("bad_config", "Cannot read config file " + path + ": " +
                                             std::string(e.description()));
  }
  for (const auto& [key, node] : table) {
    const Setting* setting = FindSetting(key.str());
    if (setting == nullptr) {
      return InvalidArgument("bad_config", "Unknown setting '" + std::string(key.str()) +
                                               "' in " + path + ".", std::string(key.str()));
    }
    std::string text;
    if (auto s = node.value<std::string>()) {
      text = *s;
    } else if (auto i = node.value<std::int64_t>()) {
      text = std::to_string(*i);
    } else if (auto b = node.value<bool>()) {
      text = *b ? "true" : "false";
    } else if (const auto* array = node.as_array()) {
      for (const auto& item : *array) {
        if (auto s = item.value<std::string>()) text += (text.empty() ? "" : ",") + *s;
      }
    } else {
      return InvalidArgument("bad_config", "Setting '" + std::string(key.str()) +
                                               "' has an unsupported type.", std::string(key.str()));
    }
    ROUNDS_RETURN_IF_ERROR(setting->set(config, text));
  }
  return Ok();
}

Status ApplyEnvironment(const std::map<std::string, std::string>& environment, Config& config) {
  for (const auto& setting : Settings()) {
    std::string name = "ROUNDS_";
    for (const char* p = setting.key; *p != '\0'; ++p) {
      name.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(*p))));
    }
    auto it = environment.find(name);
    if (it != environment.end()) ROUNDS_RETURN_IF_ERROR(setting.set(config, it->second));
  }
  return Ok();
}

std::map<std::string, std::string> ProcessEnvironment() {
  std::map<std::string, std::string> out;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view entry(*e);
    auto eq = entry.find('=');
    if (eq != std::string_view::npos) out.emplace(entry.substr(0, eq), entry.substr(eq + 1));
  }
  return out;
}

}  // namespace rounds
