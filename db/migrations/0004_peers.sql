-- The peer directory: where each member organization's node answers.
CREATE TABLE peers (
  organization_id  bigint PRIMARY KEY REFERENCES organizations (id),
  base_url         text NOT NULL CHECK (base_url ~ '^https://'),
  created_at       timestamptz NOT NULL DEFAULT now()
);

CREATE TRIGGER peers_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON peers
  FOR EACH STATEMENT EXECUTE FUNCTION bump_registry_generation();

GRANT SELECT, INSERT, UPDATE, DELETE ON peers TO hie_runtime;
