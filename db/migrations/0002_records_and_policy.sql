-- FHIR resources, patient identifiers, grants and patient consent.
CREATE TABLE fhir_resources (
  resource_type  text NOT NULL,
  id             text NOT NULL CHECK (id ~ '^[A-Za-z0-9.-]{1,64}$'),
  version        integer NOT NULL CHECK (version >= 1),
  last_updated   timestamptz NOT NULL,
  patient_id     text,          -- the patient the resource is about (its own id for Patient)
  resource       jsonb NOT NULL,
  PRIMARY KEY (resource_type, id)
);
CREATE INDEX fhir_resources_patient ON fhir_resources (resource_type, patient_id, id);

CREATE TABLE patient_identifiers (
  system      text NOT NULL,
  value       text NOT NULL,
  patient_id  text NOT NULL,
  PRIMARY KEY (system, value, patient_id)
);
CREATE INDEX patient_identifiers_patient ON patient_identifiers (patient_id);

CREATE TABLE grants (
  id               bigserial PRIMARY KEY,
  organization_id  bigint NOT NULL REFERENCES organizations (id),
  resource_types   text[] NOT NULL CHECK (cardinality(resource_types) > 0),
  actions          text[] NOT NULL CHECK (cardinality(actions) > 0 AND actions <@ ARRAY['read', 'search']::text[]),
  purposes         text[] NOT NULL CHECK (cardinality(purposes) > 0),
  created_at       timestamptz NOT NULL DEFAULT now(),
  revoked_at       timestamptz
);
CREATE INDEX grants_organization ON grants (organization_id) WHERE revoked_at IS NULL;

CREATE TABLE patient_consents (
  patient_id  text PRIMARY KEY,
  opted_out   boolean NOT NULL DEFAULT false,
  updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE patient_consent_denials (
  patient_id       text NOT NULL,
  organization_id  bigint NOT NULL REFERENCES organizations (id),
  created_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (patient_id, organization_id)
);

-- Grants and consent are cached by running nodes like the registry.
CREATE TRIGGER grants_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON grants
  FOR EACH STATEMENT EXECUTE FUNCTION bump_registry_generation();
CREATE TRIGGER patient_consents_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON patient_consents
  FOR EACH STATEMENT EXECUTE FUNCTION bump_registry_generation();
CREATE TRIGGER patient_consent_denials_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON patient_consent_denials
  FOR EACH STATEMENT EXECUTE FUNCTION bump_registry_generation();
