# PostgreSQL 15 for docker/compose.yaml, from Debian 12's packages. DEVELOPMENT
# ONLY. It follows the official postgres image's conventions (PGDATA
# /var/lib/postgresql/data, *.sql in /docker-entrypoint-initdb.d run once on
# an empty data directory, a server reachable only after they ran), so
# `image: postgres:15` (with POSTGRES_PASSWORD set) can replace it where that
# image can be pulled.
#
#   podman build -f docker/postgres.Dockerfile -t hie-postgres:15 docker
FROM debian:12-slim
# No cluster from the package: the entrypoint makes one in PGDATA.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends postgresql-common \
 && sed -ri 's/^#?\s*create_main_cluster\s*=.*/create_main_cluster = false/' /etc/postgresql-common/createcluster.conf \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends postgresql-15 \
 && rm -rf /var/lib/apt/lists/* \
 && install -d -o postgres -g postgres -m 0700 /var/lib/postgresql/data \
 && install -d -o postgres -g postgres -m 2775 /var/run/postgresql \
 && install -d /docker-entrypoint-initdb.d
COPY postgres-entrypoint.sh /usr/local/bin/hie-postgres-entrypoint
ENV PGDATA=/var/lib/postgresql/data PATH=/usr/lib/postgresql/15/bin:$PATH
USER postgres
VOLUME /var/lib/postgresql/data
EXPOSE 5432
# SIGINT: PostgreSQL's fast shutdown (SIGTERM waits for every client to leave).
STOPSIGNAL SIGINT
HEALTHCHECK --interval=5s --timeout=3s --retries=20 CMD pg_isready -h 127.0.0.1 -p 5432 -U postgres -q
ENTRYPOINT ["hie-postgres-entrypoint"]
