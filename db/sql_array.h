// PostgreSQL array literals for parameters ($1::text[]): the one place that
// writes them. Every element is quoted and escaped, so any text is safe.
#pragma once

#include <set>
#include <string>
#include <vector>

namespace hie::db {

// {"a","b\"c"} — the text[] literal holding items in order.
std::string textArrayLiteral(const std::vector<std::string>& items);
std::string textArrayLiteral(const std::set<std::string>& items);

}  // namespace hie::db
