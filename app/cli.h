// Command-line parsing: `--opt value` and `--opt=value`, repeatable options,
// positional arguments. A usage error is exit status 2.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/result.h"

namespace hie::app {

struct OptionSpec {
  std::set<std::string> withValue;   // e.g. "identifier", "role"
  std::set<std::string> repeatable;  // subset of withValue
  std::set<std::string> flags;       // e.g. "opt-out"
};

struct ParsedArgs {
  std::map<std::string, std::vector<std::string>> options;  // name -> values (flags: one "")
  std::vector<std::string> positional;

  bool has(const std::string& name) const { return options.count(name) != 0; }
  std::string value(const std::string& name) const;  // first value or ""
  const std::vector<std::string>& values(const std::string& name) const;
};

// kInvalidInput (a usage error) for unknown options, a missing value, or a
// non-repeatable option given twice. "--config" is accepted everywhere.
Result<ParsedArgs> parseArgs(const std::vector<std::string>& args, const OptionSpec& spec);

}  // namespace hie::app
