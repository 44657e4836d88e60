// Small secret files kept beside the database, never in it: the database key, the audit trail's
// signing key and the key two-step sign-in seeds are sealed under.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace rounds::app {

// The file's text without surrounding whitespace; kNotFound when it cannot be read.
Result<std::string> ReadTrimmed(const std::string& path);

// Writes `text` to a new file created with `mode` (owner-only from the first byte, not chmod
// after) and syncs it and its folder, which is created owner-only when missing. kInternal with
// `problem` when the file exists already or cannot be written; its message names `what` ("the
// audit signing key").
Status WriteNewFile(const std::string& path, const std::string& text, mode_t mode, std::string_view problem,
                    std::string_view what);

// Syncs `folder` (the working folder when empty), so that names created or renamed in it survive
// a crash; a file's own fsync does not promise its name.
void SyncFolder(const std::filesystem::path& folder);

// Renames `from` over `to` (atomically: `to` names the old file or the new one, never neither)
// and syncs the folder, so that the new name survives a crash. kInternal with `problem` on error.
Status ReplaceFile(const std::string& from, const std::string& to, std::string_view problem);

}  // namespace rounds::app
