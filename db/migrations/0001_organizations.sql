-- Organizations of the exchange and the certificates pinned to them.
CREATE TABLE organizations (
  id          bigserial PRIMARY KEY,
  identifier  text NOT NULL UNIQUE CHECK (identifier ~ '^urn:oid:[0-2](\.(0|[1-9][0-9]*))+$'),
  name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  status      text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
  roles       text[] NOT NULL DEFAULT '{member}'
              CHECK (roles <@ ARRAY['member', 'auditor', 'local']::text[]),
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- A fingerprint is pinned to at most one organization: a pin can never be ambiguous.
CREATE TABLE organization_pins (
  cert_sha256      text PRIMARY KEY CHECK (cert_sha256 ~ '^[0-9a-f]{64}$'),
  organization_id  bigint NOT NULL REFERENCES organizations (id),
  subject_dn       text NOT NULL,
  not_after        timestamptz NOT NULL,
  pinned_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX organization_pins_org ON organization_pins (organization_id);

-- One row whose counter moves on every registry change, so that running nodes
-- poll a single integer and reload only when something changed.
CREATE TABLE registry_generation (
  singleton   boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  generation  bigint NOT NULL
);
INSERT INTO registry_generation (generation) VALUES (1);

CREATE FUNCTION bump_registry_generation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE registry_generation SET generation = generation + 1;
  PERFORM pg_notify('hie_registry', '');
  RETURN NULL;
END;
$$;

CREATE TRIGGER organizations_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON organizations
  FOR EACH STATEMENT EXECUTE FUNCTION bump_registry_generation();
CREATE TRIGGER organization_pins_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON organization_pins
  FOR EACH STATEMENT EXECUTE FUNCTION bump_registry_generation();
