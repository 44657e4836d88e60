// MessageService::ExportSpace: a space's published conversation as a file, for its owners and
// moderators, where the space's template allows exports. What a compliance officer's e-discovery
// export is to the whole organization (RetentionService), this is to one space's keepers: the
// record as its members saw it, nothing held back from them and nothing they could not see.
#include <algorithm>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "app/audit_log.hpp"
#include "app/internal.hpp"
#include "app/services.hpp"
#include "core/json_text.hpp"

namespace rounds::app {

using namespace rounds::domain;

namespace {

// Messages read per query; a thread's replies are read in pages of the same size.
constexpr int kExportPage = 500;
// Text is handed to the file in pieces of about this size.
constexpr std::size_t kPiece = 64 * 1024;

// A file name's stem from a space's name: letters, digits and single dashes, at most 60 bytes of
// ASCII; "space-<id>" when nothing of the name survives (a direct conversation has none).
std::string FileStem(const Space& space) {
  std::string stem;
  for (char c : space.name) {
    const bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (keep) {
      stem.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
    } else if (!stem.empty() && stem.back() != '-') {
      stem.push_back('-');
    }
    if (stem.size() >= 60) break;
  }
  while (!stem.empty() && stem.back() == '-') stem.pop_back();
  return stem.empty() ? "space-" + std::to_string(space.id) : stem;
}

// The file, written a piece at a time, and the count of messages in it.
class ExportWriter {
 public:
  ExportWriter(OpenFile& file, SpaceExportFormat format, std::size_t max_messages)
      : file_(file), format_(format), max_messages_(max_messages) {}

  Status Begin(const Space& space, const json& template_summary, const Actor& by, UnixMillis now,
               const std::string& space_name) {
    if (format_ == SpaceExportFormat::kJson) {
      json head{{"space", {{"id", space.id}, {"name", space_name}, {"kind", ToString(space.kind)}}},
                {"template", template_summary},
                {"exported_at", now},
                {"exported_by", {{"id", by.user.id}, {"username", by.user.username},
                                 {"display_name", by.user.display_name}}}};
      std::string text = head.dump();
      text.pop_back();  // the closing brace: "messages" and "count" follow
      buffer_ += text;
      buffer_ += ",\"messages\":[";
    } else {
      buffer_ += "Rounds conversation export\n";
      buffer_ += "Space: ";
      internal::AppendIndentedLines(buffer_, space_name);
      buffer_ += " (#" + std::to_string(space.id) + ", " + std::string(ToString(space.kind)) + ")\n";
      buffer_ += "Policy: " + template_summary.value("name", std::string()) + ", version " +
                 std::to_string(template_summary.value("version", 0)) + "\n";
      buffer_ += "Exported " + FormatIso8601(now) + " by " + by.user.display_name + " (@" + by.user.username + ")\n";
      buffer_ += "Published messages only; held, hidden, removed and deleted messages are not included.\n\n";
    }
    return Flush(false);
  }

  Status Add(const Message& m, const UserRef* author) {
    patients_.Add(m.patient_refs);
    if (++count_ > max_messages_) {
      return Fail(ErrorCode::kPolicyDenied, "export_too_large",
                  "This space holds more than " + std::to_string(max_messages_) +
                      " messages: ask a compliance officer for an e-discovery export.");
    }
    if (format_ == SpaceExportFormat::kJson) {
      if (count_ > 1) buffer_ += ',';
      AppendMessageJson(buffer_, m, author);
    } else {
      internal::AppendTranscriptLead(buffer_, m, author ? author->display_name : "(deleted account)", m.title, m.body);
      if (m.edited_at != 0) buffer_ += "  {edited " + FormatIso8601(m.edited_at) + "}";
      buffer_ += "\n";
      internal::AppendTranscriptDetails(buffer_, m);
    }
    return Flush(false);
  }

  Status Finish() {
    if (format_ == SpaceExportFormat::kJson) {
      buffer_ += "],\"count\":" + std::to_string(count_) + "}\n";
    } else {
      buffer_ += "\nEnd of export: " + std::to_string(count_) + " message" + (count_ == 1 ? "" : "s") + ".\n";
    }
    return Flush(true);
  }

  std::size_t count() const { return count_; }
  // Whom the messages written name (Message::patient_refs), joined: for the export's record.
  std::string patients() const { return patients_.Joined(); }

 private:
  Status Flush(bool all) {
    if (!all && buffer_.size() < kPiece) return Ok();
    ROUNDS_RETURN_IF_ERROR(file_.Append(buffer_));
    buffer_.clear();
    return Ok();
  }

  OpenFile& file_;
  SpaceExportFormat format_;
  std::size_t max_messages_;
  std::string buffer_;
  std::size_t count_ = 0;
  domain::PatientSet patients_;
};

// Every published message of `space_id` whose parent is `parent_id` (nullopt: the top level),
// oldest first, each top-level one followed by its thread.
Status ExportMessages(store::ReadTx& tx, internal::AuthorCache& authors, ExportWriter& writer, SpaceId space_id,
                      UserId viewer, std::optional<MessageId> parent_id) {
  store::MessageQuery q;
  q.space_id = space_id;
  q.viewer_id = viewer;
  q.parent_id = parent_id;
  q.after_seq = 0;
  q.limit = kExportPage;
  for (;;) {
    ROUNDS_ASSIGN_OR_RETURN(auto page, tx.ListMessages(q));
    for (const auto& m : page) {
      // The caller's own held posts are listed for them; an export is what every member saw.
      if (m.deleted || m.state != MessageState::kPublished) continue;
      ROUNDS_ASSIGN_OR_RETURN(const UserRef* author, authors.AuthorOf(m));
      ROUNDS_RETURN_IF_ERROR(writer.Add(m, author));
      if (!parent_id && m.reply_count > 0) {
        ROUNDS_RETURN_IF_ERROR(ExportMessages(tx, authors, writer, space_id, viewer, m.id));
      }
    }
    if (page.size() < static_cast<std::size_t>(kExportPage)) return Ok();
    q.after_seq = page.back().seq;
  }
}

}  // namespace

std::optional<SpaceExportFormat> ParseSpaceExportFormat(std::string_view text) {
  if (text == "text" || text == "txt") return SpaceExportFormat::kText;
  if (text == "json") return SpaceExportFormat::kJson;
  return std::nullopt;
}

Result<SpaceExport> MessageService::ExportSpace(const Actor& actor, SpaceId space_id, SpaceExportFormat format) {
  const char* format_name = format == SpaceExportFormat::kJson ? "json" : "text";
  const std::string folder =
      config_.data_dir.empty() ? std::filesystem::temp_directory_path().string() : config_.data_dir;
  ROUNDS_ASSIGN_OR_RETURN(OpenFile file, OpenFile::Anonymous(folder));
  ExportWriter writer(file, format, static_cast<std::size_t>(std::max(0, config_.space_export_max_messages)));
  const UnixMillis now = clock_.NowMillis();
  Space space;
  std::optional<Error> refusal;
  Actor current;
  Status read = store_.Read([&](store::ReadTx& tx) -> Status {
    ROUNDS_ASSIGN_OR_RETURN(current, internal::Current(tx, actor));
    auto readable = internal::ReadableSpace(tx, current, space_id);
    if (!readable) {
      // A space the asker may not read (or that does not exist) is refused as not found, and the
      // refusal is on the record as every other refused export is.
      if (readable.error().code != ErrorCode::kNotFound && readable.error().code != ErrorCode::kForbidden) {
        return tl::unexpected(readable.error());
      }
      refusal = readable.error();
      return Ok();
    }
    space = std::move(readable->first);
    ROUNDS_ASSIGN_OR_RETURN(auto policy, policy_.TemplateFor(tx, space));
    if (!Can(readable->second, SpaceAction::kExport)) {
      refusal = Fail(ErrorCode::kForbidden, "moderator_required",
                     "Only this space's owners and moderators may export its conversation.").value();
      return Ok();
    }
    if (!policy.export_allowed) {
      refusal = Fail(ErrorCode::kPolicyDenied, "export_not_allowed",
                     "This space's policy (" + policy.name + ") does not allow its conversation to be exported.").value();
      return Ok();
    }
    ROUNDS_ASSIGN_OR_RETURN(json space_ref, internal::NamedSpaceRef(tx, space));
    internal::AuthorCache authors(tx, policy_);
    ROUNDS_RETURN_IF_ERROR(
        writer.Begin(space, internal::TemplateSummary(policy), current, now, space_ref.value("name", space.name)));
    ROUNDS_RETURN_IF_ERROR(ExportMessages(tx, authors, writer, space_id, current.user.id, std::nullopt));
    return writer.Finish();
  });
  if (!read) {
    if (read.error().problem != "export_too_large") return tl::unexpected(read.error());
    refusal = read.error();
  }
  AuditRecord record = AuditEntry(current, "space.export", "space", std::to_string(space_id), clock_.NowMillis());
  if (refusal) {
    record.outcome = AuditOutcome::kDenied;
    record.reason = refusal->problem;
    ROUNDS_RETURN_IF_ERROR(AuditNow(store_, std::move(record), json{{"format", format_name}}));
    return tl::unexpected(*refusal);
  }
  // On the trail before the file leaves, with every patient it names.
  record.patient_ref = writer.patients();
  ROUNDS_RETURN_IF_ERROR(AuditNow(store_, std::move(record), json{{"format", format_name}, {"count", writer.count()}}));
  ROUNDS_RETURN_IF_ERROR(file.Rewind());
  const char* extension = format == SpaceExportFormat::kJson ? ".json" : ".txt";
  return SpaceExport{std::move(file),
                     format == SpaceExportFormat::kJson ? "application/json; charset=utf-8" : "text/plain; charset=utf-8",
                     FileStem(space) + "-" + FormatIso8601(now).substr(0, 10) + extension, writer.count()};
}

}  // namespace rounds::app
