-- The two roles of docs/operations.md, and one database per node (development passwords).
CREATE ROLE hie_runtime NOLOGIN;
CREATE ROLE hie_owner LOGIN PASSWORD 'hie';
CREATE ROLE hie_app LOGIN PASSWORD 'hie' IN ROLE hie_runtime;
CREATE DATABASE hie_a OWNER hie_owner;
CREATE DATABASE hie_b OWNER hie_owner;
