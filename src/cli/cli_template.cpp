// `rounds admin template validate FILE`: checks a policy template document offline with the same
// parser the server uses, printing every issue with its JSON path.
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>

#include "cli/cli_audit.hpp"
#include "governance/policy/policy_template.hpp"

namespace rounds::cli {
namespace {

int ValidateTemplate(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::cerr << "rounds: cannot read " << path << "\n";
    return 2;
  }
  std::stringstream text;
  text << in.rdbuf();
  auto parsed = governance::policy::ParseTemplateText(text.str());
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
