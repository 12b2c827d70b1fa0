import { join } from 'node:path'
import { repoFolderName } from './repo.ts'
import type { RepoRef } from './repo.ts'
import { validateCommit, validateEtag, validateRefName, validateRepoFilePath } from './validate.ts'

/** Name of the cache-root folder holding per-blob lock files. */
export const LOCKS_DIR = '.locks'

/** The folder of one repo in the cache: `<cacheDir>/models--org--name`. */
export function repoDir(cacheDir: string, repo: RepoRef): string {
  return join(cacheDir, repoFolderName(repo))
}

/** Where a complete blob lives: `<repo>/blobs/<etag>`. */
export function blobPath(cacheDir: string, repo: RepoRef, etag: string): string {
  return join(repoDir(cacheDir, repo), 'blobs', validateEtag(etag))
}

/** Where an unfinished download of a blob lives: `<repo>/blobs/<etag>.incomplete`. */
export function incompleteBlobPath(cacheDir: string, repo: RepoRef, etag: string): string {
  return `${blobPath(cacheDir, repo, etag)}.incomplete`
}

/** The folder of one revision: `<repo>/snapshots/<commit>`. */
export function snapshotDir(cacheDir: string, repo: RepoRef, commit: string): string {
  return join(repoDir(cacheDir, repo), 'snapshots', validateCommit(commit))
}

/** The link for one file of a revision: `<repo>/snapshots/<commit>/<file>`. */
export function snapshotPath(cacheDir: string, repo: RepoRef, commit: string, file: string): string {
  return join(snapshotDir(cacheDir, repo, commit), ...validateRepoFilePath(file).split('/'))
}

/** The file holding a ref: `<repo>/refs/<name>` (so `refs/pr/1` is `<repo>/refs/refs/pr/1`). */
export function refPath(cacheDir: string, repo: RepoRef, refName: string): string {
  return join(repoDir(cacheDir, repo), 'refs', ...validateRefName(refName).split('/'))
}

/** The marker saying a file does not exist at a commit: `<repo>/.no_exist/<commit>/<file>`. */
export function noExistPath(cacheDir: string, repo: RepoRef, commit: string, file: string): string {
  return join(
    repoDir(cacheDir, repo),
    '.no_exist',
    validateCommit(commit),
    ...validateRepoFilePath(file).split('/'),
  )
}

/** The lock file guarding writes of one blob: `<cacheDir>/.locks/<repo folder>/<etag>.lock`. */
export function lockPath(cacheDir: string, repo: RepoRef, etag: string): string {
  return join(cacheDir, LOCKS_DIR, repoFolderName(repo), `${validateEtag(etag)}.lock`)
}

/** The relative symlink target from a snapshot file to its blob: `../../blobs/<etag>`, one more `../` per sub-folder. */
export function blobLinkTarget(file: string, etag: string): string {
  const depth = validateRepoFilePath(file).split('/').length
  return `${'../'.repeat(depth + 1)}blobs/${validateEtag(etag)}`
}
