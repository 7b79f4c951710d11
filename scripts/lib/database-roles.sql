-- The database roles of docs/operations.md#database-roles, for the throwaway
-- clusters of the tests (tests/support/test_database.cpp), scripts/demo,
-- scripts/bench and scripts/security-check (pg_roles in scripts/lib/pg.sh).
-- The one copy: those read this file. No passwords: the throwaway clusters
-- trust local socket connections.
--   hie_runtime  NOLOGIN group: migrate grants it what the node needs
--   hie_owner    LOGIN: owns the databases and the schema, runs migrate
--   hie_app      LOGIN, member of hie_runtime: what nodes connect as
-- Idempotent, and safe when several processes run it at once (parallel test
-- processes): a role that exists already, or is being created by another
-- session (unique_violation), is left as it is.
DO $$
BEGIN
  BEGIN CREATE ROLE hie_runtime NOLOGIN;
  EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END;
  BEGIN CREATE ROLE hie_owner LOGIN;
  EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END;
  BEGIN CREATE ROLE hie_app LOGIN IN ROLE hie_runtime;
  EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END;
END
$$;
