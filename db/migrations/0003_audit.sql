-- The signed, hash-chained audit trail, append-only, and the runtime role.

CREATE TABLE audit_chains (
  chain_id     text PRIMARY KEY,
  node_id      text NOT NULL,
  public_key   text NOT NULL,       -- informational; verification uses the key the auditor trusts
  started_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE audit_entries (
  chain_id       text NOT NULL REFERENCES audit_chains (chain_id),
  seq            bigint NOT NULL CHECK (seq >= 1),
  prev_hash      text NOT NULL,
  entry_hash     text NOT NULL,
  signature      text NOT NULL,
  canonical      text NOT NULL,     -- the exact bytes that were hashed (never jsonb: it would re-serialize)
  -- copies of canonical fields for queries; the canonical text is authoritative
  recorded_at    timestamptz NOT NULL,
  event_type     text NOT NULL,
  action         text NOT NULL,
  outcome        text NOT NULL,
  organization   text NOT NULL,
  patient        text NOT NULL,
  purpose        text NOT NULL,
  break_glass    boolean NOT NULL,
  request_id     text NOT NULL,
  PRIMARY KEY (chain_id, seq)
);
CREATE INDEX audit_entries_time ON audit_entries (recorded_at);
CREATE INDEX audit_entries_patient ON audit_entries (patient, recorded_at) WHERE patient <> '';
CREATE INDEX audit_entries_organization ON audit_entries (organization, recorded_at);

CREATE TABLE audit_checkpoints (
  chain_id    text NOT NULL REFERENCES audit_chains (chain_id),
  seq         bigint NOT NULL,
  entry_hash  text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  checkpoint  text NOT NULL,        -- the signed checkpoint JSON as printed by `hie-node audit checkpoint`
  PRIMARY KEY (chain_id, seq, created_at)
);

CREATE FUNCTION audit_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the audit trail is append-only: % on % is not allowed', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER audit_chains_append_only BEFORE UPDATE OR DELETE ON audit_chains
  FOR EACH ROW EXECUTE FUNCTION audit_is_append_only();
CREATE TRIGGER audit_chains_no_truncate BEFORE TRUNCATE ON audit_chains
  FOR EACH STATEMENT EXECUTE FUNCTION audit_is_append_only();
CREATE TRIGGER audit_entries_append_only BEFORE UPDATE OR DELETE ON audit_entries
  FOR EACH ROW EXECUTE FUNCTION audit_is_append_only();
CREATE TRIGGER audit_entries_no_truncate BEFORE TRUNCATE ON audit_entries
  FOR EACH STATEMENT EXECUTE FUNCTION audit_is_append_only();
CREATE TRIGGER audit_checkpoints_append_only BEFORE UPDATE OR DELETE ON audit_checkpoints
  FOR EACH ROW EXECUTE FUNCTION audit_is_append_only();
CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints
  FOR EACH STATEMENT EXECUTE FUNCTION audit_is_append_only();

-- The runtime role: what `hie-node serve` and the admin commands connect as.
-- Operators create a login role and GRANT hie_runtime TO it (docs/operations.md).
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'hie_runtime') THEN
    CREATE ROLE hie_runtime NOLOGIN;
  END IF;
END
$$;

GRANT USAGE ON SCHEMA public TO hie_runtime;
GRANT SELECT ON schema_migrations TO hie_runtime;
GRANT SELECT, INSERT, UPDATE, DELETE ON organizations, organization_pins, registry_generation, fhir_resources,
  patient_identifiers, grants, patient_consents, patient_consent_denials TO hie_runtime;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO hie_runtime;
-- The audit trail: append and read, nothing else.
GRANT SELECT, INSERT ON audit_chains, audit_entries, audit_checkpoints TO hie_runtime;
