// The Prometheus text format (version 0.0.4) of the node's counters, and its
// label escaper (also used for the gauges of /metrics). Plain C++.
#pragma once

#include <string>

#include "common/counter.h"

namespace hie::exchange {

// Each family with at least one series, ordered by name: a "# TYPE NAME counter"
// line, then one line per series ordered by label values. Families never
// counted are left out.
std::string prometheusCounters(const CounterRegistry& counters);

// A Prometheus label value, escaped for the text format (\\, \" and \n).
std::string prometheusLabelValue(const std::string& value);

}  // namespace hie::exchange
