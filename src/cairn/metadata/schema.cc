#include "cairn/metadata/schema.h"

namespace cairn::metadata {
namespace {

// 0001_init.sql
constexpr char kInit[] = R"sql(
CREATE TABLE users (
  uuid TEXT PRIMARY KEY,
  username TEXT NOT NULL UNIQUE,
  is_admin BIGINT NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL
);

-- Tokens are stored as the hex SHA-256 of the secret: a stolen database holds no usable token,
-- and checking a token is one lookup on the unique index.
CREATE TABLE api_tokens (
  uuid TEXT PRIMARY KEY,
  token_sha256 TEXT NOT NULL UNIQUE,
  user_uuid TEXT NOT NULL REFERENCES users(uuid),
  expires_at BIGINT,
  created_at BIGINT NOT NULL
);
CREATE INDEX api_tokens_by_user ON api_tokens (user_uuid);

-- The current state of each collection; its manifests live in collection_versions.
CREATE TABLE collections (
  uuid TEXT PRIMARY KEY,
  owner_uuid TEXT NOT NULL REFERENCES users(uuid),
  current_version BIGINT NOT NULL,
  name TEXT NOT NULL,
  portable_data_hash TEXT NOT NULL,
  properties TEXT NOT NULL,
  replication_desired BIGINT,
  file_count BIGINT NOT NULL,
  file_size_total BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  modified_at BIGINT NOT NULL,
  modified_by_user_uuid TEXT NOT NULL,
  is_trashed BIGINT NOT NULL DEFAULT 0,
  trash_at BIGINT
);
CREATE INDEX collections_by_pdh ON collections (portable_data_hash);
CREATE INDEX collections_by_owner ON collections (owner_uuid, modified_at);
CREATE INDEX collections_by_modified ON collections (modified_at, uuid);

-- Every version of every collection, the current one included (manifests without +A hints).
CREATE TABLE collection_versions (
  collection_uuid TEXT NOT NULL REFERENCES collections(uuid),
  version BIGINT NOT NULL,
  name TEXT NOT NULL,
  portable_data_hash TEXT NOT NULL,
  manifest_text TEXT NOT NULL,
  properties TEXT NOT NULL,
  replication_desired BIGINT,
  file_count BIGINT NOT NULL,
  file_size_total BIGINT NOT NULL,
  modified_at BIGINT NOT NULL,
  modified_by_user_uuid TEXT NOT NULL,
  PRIMARY KEY (collection_uuid, version)
);

-- Grants: level 1 read, 2 write, 3 manage. One row per (target, user).
CREATE TABLE permissions (
  uuid TEXT PRIMARY KEY,
  target_uuid TEXT NOT NULL REFERENCES collections(uuid),
  user_uuid TEXT NOT NULL REFERENCES users(uuid),
  level BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  UNIQUE (target_uuid, user_uuid)
);
CREATE INDEX permissions_by_user ON permissions (user_uuid);

CREATE TABLE keep_services (
  uuid TEXT PRIMARY KEY,
  service_host TEXT NOT NULL,
  service_port BIGINT NOT NULL,
  service_ssl_flag BIGINT NOT NULL DEFAULT 0,
  service_type TEXT NOT NULL,
  read_only BIGINT NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL,
  UNIQUE (service_host, service_port)
);
)sql";

// 0002_remotes.sql: object stores whose buckets collections may name (remotes.h). Credentials
// are sealed (AES-256-GCM, base64 text); each bucket belongs to at most one remote of its kind,
// so a gateway finds the remote of an external locator by its bucket.
constexpr char kRemotes[] = R"sql(
CREATE TABLE remotes (
  name TEXT PRIMARY KEY,
  uuid TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL,
  endpoint TEXT NOT NULL,
  region TEXT NOT NULL,
  owner_uuid TEXT NOT NULL REFERENCES users(uuid),
  credentials_sealed TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE INDEX remotes_by_owner ON remotes (owner_uuid);

CREATE TABLE remote_buckets (
  kind TEXT NOT NULL,
  bucket TEXT NOT NULL,
  remote_name TEXT NOT NULL REFERENCES remotes(name),
  PRIMARY KEY (kind, bucket)
);
CREATE INDEX remote_buckets_by_remote ON remote_buckets (remote_name);
)sql";

constexpr sql::Migration kMigrations[] = {
    {.version = 1, .name = "init", .sql = kInit},
    {.version = 2, .name = "remotes", .sql = kRemotes},
};

}  // namespace

std::span<const sql::Migration> CatalogMigrations() { return kMigrations; }

}  // namespace cairn::metadata
