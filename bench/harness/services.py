"""PostgreSQL and Redis: the suite touches only its own databases and Redis db 12."""

import hashlib

import psycopg
import redis
from psycopg import sql

from . import paths

PG_ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"
REDIS_DB = 12
REDIS_URL = f"redis://127.0.0.1:6379/{REDIS_DB}"


def database_url(name):
    return f"postgres://postgres@127.0.0.1:5432/{name}"


def _admin():
    return psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=5)


def fresh_database(name, *, migrate, fingerprint):
    """Create `name` afresh as a copy of its migrated template `<name>_template`.

    The template is rebuilt with `migrate(template_name)` whenever `fingerprint` (of the migrations
    and requirements) changed; otherwise a fresh database costs a file copy instead of minutes of
    migrations on a busy machine.
    """
    template = f"{name}_template"
    with _admin() as admin:
        row = admin.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", [template]
        ).fetchone()
        if row is None or row[0] != fingerprint:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(template)))
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(template)))
            migrate(template)
            admin.execute(
                sql.SQL("COMMENT ON DATABASE {} IS {}").format(sql.Identifier(template), sql.Literal(fingerprint))
            )
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template)))


def fingerprint(*patterns):
    """A hash of the files matching `patterns` (globs under the repository), names and contents."""
    digest = hashlib.sha256()
    for pattern in patterns:
        for path in sorted(paths.REPO.glob(pattern)):
            digest.update(str(path.relative_to(paths.REPO)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:32]


def flush_redis():
    """Empty Redis db 12 (FLUSHDB: the other databases on this server belong to others)."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2, socket_timeout=5)
    try:
        client.flushdb()
    finally:
        client.close()


def problems():
    """What is missing for the production shape: a list of sentences, empty when all is up."""
    found = []
    try:
        with _admin() as admin:
            admin.execute("SELECT 1")
    except psycopg.Error as error:
        found.append(f"PostgreSQL on 127.0.0.1:5432 (user postgres) does not answer: {error}")
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        found.append(f"Redis on 127.0.0.1:6379 does not answer: {error}")
    return found
