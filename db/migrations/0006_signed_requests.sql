-- Signed requests and answers (RFC 9421; docs/api.md, "Signed requests and answers").

-- Nonces of the signed requests this node accepted, kept until a request carrying the same nonce
-- would be refused by its `created` alone (remember_until); a nonce already here is a replay.
-- Shared by every process of the node. Expired rows are pruned by the nodes (bounded DELETEs).
CREATE TABLE request_nonces (
  key_id          text NOT NULL CHECK (key_id ~ '^[0-9a-f]{64}$'),  -- the signer's certificate SHA-256
  nonce           text NOT NULL CHECK (length(nonce) BETWEEN 1 AND 256),
  remember_until  timestamptz NOT NULL,
  PRIMARY KEY (key_id, nonce)
);
CREATE INDEX request_nonces_remember_until ON request_nonces (remember_until);

-- Every certificate chain that signed a request this node accepted, and the node's own chain(s),
-- by the SHA-256 of the leaf's DER (an audit entry's certSha256, a signature's keyid), so that an
-- audit entry's signature can be checked later. Append-only, like the audit trail.
CREATE TABLE certificates (
  sha256      text PRIMARY KEY CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  chain_pem   text NOT NULL,          -- as presented, leaf first (PEM)
  first_seen  timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER certificates_append_only BEFORE UPDATE OR DELETE ON certificates
  FOR EACH ROW EXECUTE FUNCTION audit_is_append_only();
CREATE TRIGGER certificates_no_truncate BEFORE TRUNCATE ON certificates
  FOR EACH STATEMENT EXECUTE FUNCTION audit_is_append_only();

-- Whether this organization's requests to us, and its node's answers to us, must be signed;
-- NULL: the node's settings (signatures.requests, signatures.answers).
ALTER TABLE organizations ADD COLUMN signature_policy text
  CHECK (signature_policy IN ('require', 'verify-if-present', 'off'));

GRANT SELECT, INSERT, DELETE ON request_nonces TO hie_runtime;
GRANT SELECT, INSERT ON certificates TO hie_runtime;

-- `hie-node audit evidence REQUEST_ID` finds an entry by its request id without reading the log.
CREATE INDEX audit_log_leaves_request_id ON audit_log_leaves (audit_leaf_text(leaf, 'requestId'));
