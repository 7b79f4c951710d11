// The official FHIR R4 definitions as a test oracle: tests/tools/validate-fhir.js
// (JSON schema, JSON format rules, required elements) run with Node.js over
// answers a test collected. The tools are installed by scripts/install-deps;
// without them the checks fail with a message that says so, never skip.
#pragma once

#include <string>
#include <vector>

#include "tests/support/node_process.h"

namespace hie::testing {

// One answer to check: a label for the report (becomes part of a file name) and its JSON text.
struct FhirDocument {
  std::string label;
  std::string json;
};

// Writes each document to dir/NN-label.json and validates them all in one run.
// exitCode 0 when every one is valid R4; output names each file, element and problem.
CommandResult validateFhirR4(const std::vector<FhirDocument>& documents, const std::string& dir);

// Runs a script of tests/tools with Node.js (e.g. r4-required.js) with args.
CommandResult runFhirTool(const std::string& script, const std::vector<std::string>& args);

}  // namespace hie::testing
