#include "app/cli.h"

namespace hie::app {

std::string ParsedArgs::value(const std::string& name) const {
  auto it = options.find(name);
  return it == options.end() || it->second.empty() ? std::string() : it->second.front();
}

const std::vector<std::string>& ParsedArgs::values(const std::string& name) const {
  static const std::vector<std::string> kNone;
  auto it = options.find(name);
  return it == options.end() ? kNone : it->second;
}

Result<ParsedArgs> parseArgs(const std::vector<std::string>& args, const OptionSpec& specIn) {
  OptionSpec spec = specIn;
  spec.withValue.insert("config");
  ParsedArgs out;
  bool onlyPositional = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (onlyPositional || arg.size() < 3 || arg.compare(0, 2, "--") != 0) {
      if (arg == "--") {
        onlyPositional = true;
        continue;
      }
      if (!onlyPositional && arg.size() > 1 && arg[0] == '-') {
        return fail(ErrorCode::kInvalidInput, "unknown option '" + arg + "'");
      }
      out.positional.push_back(arg);
      continue;
    }
    std::string name = arg.substr(2);
    std::string value;
    bool inlineValue = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      inlineValue = true;
    }
    if (spec.flags.count(name)) {
      if (inlineValue) return fail(ErrorCode::kInvalidInput, "option --" + name + " takes no value");
      if (out.has(name)) return fail(ErrorCode::kInvalidInput, "option --" + name + " given twice");
      out.options[name].push_back("");
      continue;
    }
    if (!spec.withValue.count(name)) return fail(ErrorCode::kInvalidInput, "unknown option '--" + name + "'");
    if (!inlineValue) {
      if (i + 1 >= args.size()) return fail(ErrorCode::kInvalidInput, "option --" + name + " needs a value");
      value = args[++i];
    }
    if (out.has(name) && !spec.repeatable.count(name)) {
      return fail(ErrorCode::kInvalidInput, "option --" + name + " given twice");
    }
    out.options[name].push_back(value);
  }
  return out;
}

}  // namespace hie::app
