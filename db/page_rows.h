// Reading one page of a paged query: the queries select count + 1 rows joined
// to the total (SELECT ... FROM total LEFT JOIN LATERAL (... LIMIT count + 1)),
// so one round trip tells the page, the total, and whether another page follows.
#pragma once

#include <pqxx/pqxx>

namespace hie::db {

// Calls add(row) for at most count rows; total from column totalColumn (rows
// with a NULL first column are the total alone); more when a row lies beyond count.
template <class Add>
void readPage(const pqxx::result& rows, int count, int totalColumn, long long& total, bool& more, Add add) {
  int taken = 0;
  for (const auto& row : rows) {
    total = row[totalColumn].as<long long>();
    if (row[0].is_null()) break;
    if (taken == count) {
      more = true;
      break;
    }
    add(row);
    ++taken;
  }
}

}  // namespace hie::db
