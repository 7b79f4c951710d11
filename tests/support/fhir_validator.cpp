#include "tests/support/fhir_validator.h"

#include <fstream>

#ifndef HIE_NODEJS
#error "HIE_NODEJS and HIE_FHIR_TOOLS_DIR must be defined by the build"
#endif

namespace hie::testing {

CommandResult runFhirTool(const std::string& script, const std::vector<std::string>& args) {
  std::vector<std::string> argv{HIE_NODEJS, std::string(HIE_FHIR_TOOLS_DIR) + "/" + script};
  argv.insert(argv.end(), args.begin(), args.end());
  CommandResult r = runProgram(argv, {}, std::chrono::seconds(180));
  if (r.exitCode == 127) r.output += "\ncannot run " + std::string(HIE_NODEJS) + ": install Node.js (scripts/install-deps)";
  return r;
}

CommandResult validateFhirR4(const std::vector<FhirDocument>& documents, const std::string& dir) {
  std::vector<std::string> files;
  for (const auto& doc : documents) {
    std::string name = std::to_string(files.size()) + "-";
    for (char c : doc.label) {
      const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
      name.push_back(plain ? c : '_');
    }
    files.push_back(dir + "/" + name.substr(0, 80) + ".json");
    std::ofstream(files.back(), std::ios::trunc) << doc.json;
  }
  if (files.empty()) return CommandResult{1, "validateFhirR4: no documents"};
  return runFhirTool("validate-fhir.js", files);
}

}  // namespace hie::testing
