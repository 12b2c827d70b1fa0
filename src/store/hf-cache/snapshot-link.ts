import { mkdir, readlink, rename, rm, stat, symlink } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { ensureCacheDirTag } from './cachedir-tag.ts'
import { BlobNotFoundError } from './errors.ts'
import { errorCode, randomHex8 } from './fs-util.ts'
import { blobLinkTarget, blobPath, snapshotPath } from './paths.ts'
import type { RepoRef } from './repo.ts'

/**
 * Makes `snapshots/<commit>/<file>` a relative symlink to `blobs/<etag>` (`../../blobs/<etag>`,
 * one more `../` per sub-folder) and returns its path. The link is created under a temporary
 * name and renamed over, so it appears atomically; an identical existing link is left alone.
 * Throws BlobNotFoundError when the blob is missing: a dangling link is never created.
 */
export async function linkSnapshotFile(
  cacheDir: string,
  repo: RepoRef,
  commit: string,
  file: string,
  etag: string,
): Promise<string> {
  const dest = snapshotPath(cacheDir, repo, commit, file)
  const target = blobLinkTarget(file, etag)
  const blob = blobPath(cacheDir, repo, etag)
  if (!(await isFile(blob))) throw new BlobNotFoundError(`Blob ${etag} is not in ${dirname(blob)}`)
  if ((await readLinkOrNull(dest)) === target) return dest
  await ensureCacheDirTag(cacheDir)
  await mkdir(dirname(dest), { recursive: true })
  // A short fixed-length temp name: `<file name>.<suffix>` could exceed NAME_MAX.
  const temp = join(dirname(dest), `.hffs-${randomHex8()}${randomHex8()}.tmp`)
  try {
    await symlink(target, temp)
    await rename(temp, dest)
  } catch (err) {
    await rm(temp, { force: true })
    throw err
  }
  return dest
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile()
  } catch (err) {
    const code = errorCode(err)
    if (code === 'ENOENT' || code === 'ENOTDIR') return false
    throw err
  }
}

async function readLinkOrNull(path: string): Promise<string | null> {
  try {
    return await readlink(path)
  } catch {
    return null
  }
}
