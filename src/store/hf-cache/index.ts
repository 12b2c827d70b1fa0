// The Hugging Face hub cache, read and written byte-for-byte as huggingface_hub does.

export type { RepoRef, RepoType } from './repo.ts'
export { REPO_TYPES, parseRepoFolderName, repoFolderName, validateRepo, validateRepoId } from './repo.ts'
export type { CacheEnv } from './cache-dir.ts'
export { expandPath, resolveHubCacheDir } from './cache-dir.ts'
export {
  BlobNotFoundError,
  CacheNotFoundError,
  InvalidCommitError,
  InvalidEtagError,
  InvalidRefNameError,
  InvalidRepoIdError,
  UnsafePathError,
} from './errors.ts'
export {
  isCommitHash,
  isEtag,
  validateCommit,
  validateEtag,
  validateRefName,
  validateRepoFilePath,
} from './validate.ts'
export {
  blobLinkTarget,
  blobPath,
  incompleteBlobPath,
  lockPath,
  noExistPath,
  refPath,
  repoDir,
  snapshotDir,
  snapshotPath,
} from './paths.ts'
export { CACHEDIR_TAG_CONTENT, CACHEDIR_TAG_NAME, ensureCacheDirTag } from './cachedir-tag.ts'
export { commitBlob, writeBlob } from './blob.ts'
export { linkSnapshotFile } from './snapshot-link.ts'
export { readRef, writeRef } from './refs.ts'
export { markNoExist } from './no-exist.ts'
export type { BlobLockOptions } from './blob-lock.ts'
export { withBlobLock } from './blob-lock.ts'
export { removeSnapshotFiles } from './remove.ts'
export type { CacheScan, CachedFile, CachedRepo, CachedRevision, IncompleteBlob } from './scan-types.ts'
export type { ScanOptions } from './scan.ts'
export { scanHubCache } from './scan.ts'
