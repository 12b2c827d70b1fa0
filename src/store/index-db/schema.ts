/** The shard index schema. The index is derived data: deleting the file loses nothing that the HF cache cannot rebuild. */
export const SCHEMA_VERSION = 1

export const SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;

-- One row per blob content (etag). xet_hash and the manifest are known once the blob was chunked.
CREATE TABLE IF NOT EXISTS blobs (
  etag TEXT PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('sha256', 'gitsha1')),
  size INTEGER NOT NULL,
  xet_hash BLOB,
  manifest BLOB
) WITHOUT ROWID;

-- One row per blob file on disk (a blob can sit in several repo folders).
-- status: 'ok' (verified against its etag), 'corrupt' (failed: never served).
CREATE TABLE IF NOT EXISTS blob_files (
  path TEXT PRIMARY KEY,
  etag TEXT NOT NULL,
  repo_type TEXT NOT NULL,
  repo_id TEXT NOT NULL,
  size INTEGER NOT NULL,
  mtime_ms INTEGER NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('ok', 'corrupt')),
  error TEXT,
  indexed_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS blob_files_etag ON blob_files (etag);

-- Where each chunk's bytes live inside a complete blob. The first location seen wins;
-- dedup means many blobs may hold the same chunk.
CREATE TABLE IF NOT EXISTS chunk_locations (
  hash BLOB PRIMARY KEY,
  etag TEXT NOT NULL,
  offset INTEGER NOT NULL,
  length INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS chunk_locations_etag ON chunk_locations (etag);

CREATE TABLE IF NOT EXISTS snapshot_files (
  repo_type TEXT NOT NULL,
  repo_id TEXT NOT NULL,
  commit_sha TEXT NOT NULL,
  path TEXT NOT NULL,
  etag TEXT NOT NULL,
  size INTEGER NOT NULL,
  PRIMARY KEY (repo_type, repo_id, commit_sha, path)
) WITHOUT ROWID;

-- What the Hub said of a repo's access (private, gated). Not derived from the HF cache: a rebuild on a
-- schema change keeps it, and a table added here appears in an older index file by CREATE IF NOT EXISTS.
CREATE TABLE IF NOT EXISTS repo_access (
  repo_type TEXT NOT NULL,
  repo_id TEXT NOT NULL,
  private INTEGER NOT NULL,
  gated INTEGER NOT NULL,
  learned_at INTEGER NOT NULL,
  PRIMARY KEY (repo_type, repo_id)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS refs (
  repo_type TEXT NOT NULL,
  repo_id TEXT NOT NULL,
  name TEXT NOT NULL,
  commit_sha TEXT NOT NULL,
  PRIMARY KEY (repo_type, repo_id, name)
) WITHOUT ROWID;
`
