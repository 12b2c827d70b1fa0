import type { RepoRef } from './repo.ts'

/** One file of a cached revision. */
export interface CachedFile {
  /** Path inside the repo, POSIX separators (`onnx/model.onnx`). */
  path: string
  /** Absolute path of the entry under `snapshots/<commit>/`. */
  filePath: string
  /** Absolute path of the data: `<repo>/blobs/<etag>`, or the file itself when it is not a link. */
  blobPath: string
  /** The blob file name when the entry links into the repo's `blobs/`, else null. */
  etag: string | null
  /** Size of the data in bytes. */
  size: number
  lastAccessed: Date
  lastModified: Date
}

/** One revision (commit) present under `snapshots/`. */
export interface CachedRevision {
  commit: string
  /** Absolute path of `snapshots/<commit>`. */
  path: string
  /** Refs pointing at this commit (`main`, `refs/pr/1`), sorted. */
  refs: string[]
  /** Files, sorted by path. */
  files: CachedFile[]
  /** Bytes on disk, each blob counted once. */
  size: number
  /** Latest blob modification, or the folder's when it is empty. */
  lastModified: Date
}

/** One repo folder of the cache. */
export interface CachedRepo extends RepoRef {
  /** Absolute path of the repo folder. */
  path: string
  /** Bytes on disk of the blobs that revisions link to, each counted once. */
  size: number
  /** Number of distinct blobs linked from revisions. */
  nbFiles: number
  lastAccessed: Date
  lastModified: Date
  /** Every ref pointing at a cached revision: ref name → commit. */
  refs: Record<string, string>
  /** Revisions, sorted by commit. */
  revisions: CachedRevision[]
}

/** A `blobs/*.incomplete` file: an unfinished or interrupted download. */
export interface IncompleteBlob extends RepoRef {
  /** Absolute path of the file. */
  path: string
  /** The etag it is meant to become (the file name up to the first dot). */
  etag: string
  size: number
  lastModified: Date
}

/** Everything scanHubCache found. */
export interface CacheScan {
  cacheDir: string
  /** Valid repos, sorted by folder name. */
  repos: CachedRepo[]
  /** Unfinished downloads, reported apart from the repos. */
  incomplete: IncompleteBlob[]
  /** Sum of the repos' sizes. */
  size: number
  /** One line per corrupt or unreadable thing; the scan itself never fails on them. */
  warnings: string[]
}
