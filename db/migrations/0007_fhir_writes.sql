-- The FHIR write API (docs/api.md, "Writing records"): every version of every resource is kept,
-- a deleted resource keeps its row (deleted = true) so that readers get 410, and conditional
-- writes find resources by identifier.

-- The current version stays in fhir_resources; a deletion is a version too (deleted = true, and
-- resource keeps the last content, which no reader is given).
ALTER TABLE fhir_resources ADD COLUMN deleted boolean NOT NULL DEFAULT false;

-- Every version, the current one included: what GET /fhir/{Type}/{id}/_history/{vid} reads.
-- Written in the same transaction as fhir_resources; never updated (the runtime role may only
-- INSERT and SELECT).
CREATE TABLE fhir_resource_history (
  resource_type  text NOT NULL,
  id             text NOT NULL,
  version        integer NOT NULL CHECK (version >= 1),
  last_updated   timestamptz NOT NULL,
  patient_id     text,
  deleted        boolean NOT NULL,
  resource       jsonb,          -- NULL for a deletion
  request_id     text,           -- the X-Request-Id of the write (its audit entry); NULL: records import
  PRIMARY KEY (resource_type, id, version),
  CHECK (deleted = (resource IS NULL))
);

-- Resources stored before this migration: their current version is their history.
INSERT INTO fhir_resource_history (resource_type, id, version, last_updated, patient_id, deleted, resource)
  SELECT resource_type, id, version, last_updated, patient_id, false, resource FROM fhir_resources;

-- Conditional writes (PUT Type?identifier=SYSTEM|VALUE, ifNoneExist) of any type.
CREATE INDEX fhir_resources_identifier ON fhir_resources USING gin ((resource -> 'identifier') jsonb_path_ops);

GRANT SELECT, INSERT ON fhir_resource_history TO hie_runtime;
