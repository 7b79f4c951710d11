-- UDAP B2B (HL7 UDAP Security IG; docs/udap.md): clients registered at this node, replay protection
-- of their JWTs, this node's own registrations at UDAP peers, and how this node authenticates to a peer.

-- How this node authenticates its calls to the peer: mutual TLS alone, or mutual TLS and a UDAP
-- access token (the peer's node requires or accepts UDAP).
ALTER TABLE peers ADD COLUMN auth text NOT NULL DEFAULT 'mtls' CHECK (auth IN ('mtls', 'udap'));

-- Client applications registered through POST /oauth/register (trusted dynamic client registration).
-- At most one active registration per SAN URI (the software statement's iss); a modification keeps
-- the client_id, a cancellation sets status 'cancelled', a registration after a cancellation makes a
-- new client_id. The token endpoint reads this table; the FHIR API reads the registry snapshot.
CREATE TABLE udap_clients (
  client_id           text PRIMARY KEY CHECK (client_id ~ '^[A-Za-z0-9_-]{16,64}$'),
  organization_id     bigint NOT NULL REFERENCES organizations (id),
  san_uri             text NOT NULL CHECK (length(san_uri) BETWEEN 1 AND 2048),
  status              text NOT NULL CHECK (status IN ('active', 'cancelled')),
  client_name         text NOT NULL,
  contacts            text NOT NULL,          -- JSON array of strings, as registered
  scope               text NOT NULL,          -- the granted scope, space-separated
  software_statement  text NOT NULL,          -- the compact JWT exactly as received (the evidence)
  cert_sha256         text NOT NULL CHECK (cert_sha256 ~ '^[0-9a-f]{64}$'),  -- its x5c leaf
  registered_at       timestamptz NOT NULL DEFAULT now(),
  updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX udap_clients_one_active ON udap_clients (san_uri) WHERE status = 'active';
CREATE TRIGGER udap_clients_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON udap_clients
  FOR EACH STATEMENT EXECUTE FUNCTION bump_registry_generation();

-- (iss, jti) of every software statement and client assertion accepted, kept until the JWT has
-- expired (plus the clock skew allowed); a pair already here is a replay (general.md 7.1.4 lets a
-- jti be used again only after that). Shared by every process of the node; pruned by the nodes.
CREATE TABLE udap_jti (
  issuer          text NOT NULL CHECK (length(issuer) BETWEEN 1 AND 2048),
  jti             text NOT NULL CHECK (length(jti) BETWEEN 1 AND 256),
  remember_until  timestamptz NOT NULL,
  PRIMARY KEY (issuer, jti)
);
CREATE INDEX udap_jti_remember_until ON udap_jti (remember_until);

-- This node as a UDAP client: the client_id each UDAP peer gave it, and the registration endpoint it
-- registered at (a different endpoint in the peer's signed metadata means registering again).
CREATE TABLE udap_peer_registrations (
  organization_id        bigint PRIMARY KEY REFERENCES organizations (id),
  registration_endpoint  text NOT NULL,
  client_id              text NOT NULL CHECK (length(client_id) BETWEEN 1 AND 256),
  registered_at          timestamptz NOT NULL DEFAULT now()
);

GRANT SELECT, INSERT, UPDATE ON udap_clients TO hie_runtime;
GRANT SELECT, INSERT, DELETE ON udap_jti TO hie_runtime;
GRANT SELECT, INSERT, UPDATE, DELETE ON udap_peer_registrations TO hie_runtime;
