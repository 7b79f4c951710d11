#include "exchange/http/prometheus_text.h"

#include <algorithm>
#include <vector>

namespace hie::exchange {

std::string prometheusLabelValue(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

std::string prometheusCounters(const CounterRegistry& counters) {
  std::vector<const CounterFamily*> families = counters.families();
  std::sort(families.begin(), families.end(),
            [](const CounterFamily* a, const CounterFamily* b) { return a->info().name < b->info().name; });
  std::string out;
  for (const CounterFamily* family : families) {
    const CounterInfo& info = family->info();
    const std::vector<CounterSeries> series = family->series();
    if (series.empty()) continue;
    out += "# TYPE " + info.name + " counter\n";
    for (const CounterSeries& s : series) {
      out += info.name;
      for (std::size_t i = 0; i < s.labelValues.size() && i < info.labelNames.size(); ++i) {
        out += (i == 0 ? "{" : ",") + info.labelNames[i] + "=\"" + prometheusLabelValue(s.labelValues[i]) + "\"";
      }
      if (!s.labelValues.empty()) out += "}";
      out += " " + std::to_string(s.value) + "\n";
    }
  }
  return out;
}

}  // namespace hie::exchange
