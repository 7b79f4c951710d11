# Writes OUT, a C++ file defining hie::db::embeddedMigrations() from the
# db/migrations/NNNN_name.sql files in DIR, so the binary knows its schema.
file(GLOB sql_files RELATIVE "${DIR}" "${DIR}/*.sql")
list(SORT sql_files)
set(body "")
foreach(f IN LISTS sql_files)
  if(NOT f MATCHES "^([0-9][0-9][0-9][0-9])_([a-z0-9_]+)\\.sql$")
    message(FATAL_ERROR "migration file name must be NNNN_name.sql: ${f}")
  endif()
  math(EXPR version "${CMAKE_MATCH_1}")
  set(name "${CMAKE_MATCH_2}")
  file(READ "${DIR}/${f}" sql)
  if(sql MATCHES "\\)hie_sql\"")
    message(FATAL_ERROR "${f} contains the embedding delimiter")
  endif()
  string(APPEND body "      {${version}, \"${name}\", R\"hie_sql(${sql})hie_sql\"},\n")
endforeach()
file(WRITE "${OUT}.tmp" "// Generated from db/migrations by db/embed_migrations.cmake. Do not edit.
#include \"db/migrations.h\"

namespace hie::db {

const std::vector<Migration>& embeddedMigrations() {
  static const std::vector<Migration> kMigrations = {
${body}  };
  return kMigrations;
}

}  // namespace hie::db
")
execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different "${OUT}.tmp" "${OUT}")
