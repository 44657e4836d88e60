// `rounds admin template validate FILE`: checks a policy template document offline with the same
// parsing checks and validation the server uses, printing every issue with its JSON path.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>

#include "app/json_codec.hpp"
#include "cli/cli_audit.hpp"
#include "governance/policy/policy_template.hpp"

namespace rounds::cli {
namespace {

using governance::policy::PolicyTemplate;
using governance::policy::ValidationIssue;

// The document as POST /api/v1/templates reads it: the request body's checks first (UTF-8,
// nesting, repeated keys), so that a file gets the same code from both (its message names the file).
tl::expected<PolicyTemplate, std::vector<ValidationIssue>> ParseAsTheApiDoes(const std::string& text) {
  auto document = app::ParseRequestBody(text, 32, "The file");
  if (!document) {
    const Error& e = document.error();
    return tl::unexpected(std::vector<ValidationIssue>{{e.field, e.problem, e.public_message}});
  }
  return governance::policy::ParseTemplate(*document);
}

int ValidateTemplate(const std::string& path) {
  // A directory opens as a stream on some systems and reads as nothing: it is no file to read.
  std::error_code ec;
  std::ifstream in(path, std::ios::binary);
  if (!in || std::filesystem::is_directory(path, ec)) {
    std::cerr << "rounds: cannot read " << path << "\n";
    return 2;
  }
  std::stringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    std::cerr << "rounds: cannot read " << path << "\n";
    return 2;
  }
  auto parsed = ParseAsTheApiDoes(text.str());
  if (!parsed) {
    for (const auto& issue : parsed.error()) {
      std::cout << path << ": " << (issue.path.empty() ? "/" : issue.path) << ": " << issue.code << ": "
                << issue.message << "\n";
    }
    std::cout << parsed.error().size() << (parsed.error().size() == 1 ? " problem" : " problems") << "\n";
    return 1;
  }
  std::cout << "ok: template " << parsed->key << " version " << parsed->version << "\n";
  return 0;
}

}  // namespace

void AddTemplateCommands(CLI::App& app) {
  CLI::App* admin = app.get_subcommand("admin");
  auto* templates = admin->add_subcommand("template", "Policy templates.");
  templates->require_subcommand(1);
  auto file = std::make_shared<std::string>();
  auto* validate = templates->add_subcommand("validate", "Check a template document; list every problem (exit 1 if invalid).");
  validate->add_option("file", *file, "Template JSON file")->required();
  validate->callback([file] { throw CLI::RuntimeError(ValidateTemplate(*file)); });
}

}  // namespace rounds::cli
