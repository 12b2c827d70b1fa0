import { copyFile, mkdir, open, rename, rm } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { ensureCacheDirTag } from './cachedir-tag.ts'
import { errorCode, fsyncDir, fsyncFile, lstatOrNull, randomHex8 } from './fs-util.ts'
import { noteUnsyncedBlob } from '../unsynced-blobs.ts'
import { blobPath } from './paths.ts'
import type { RepoRef } from './repo.ts'

export interface CommitBlobOptions {
  /**
   * Rename without flushing the data first: a marker in this node home, flushed before the rename, says so,
   * and `settleUnsyncedBlobs` flushes the blob later, or hashes it again after a crash (unsynced-blobs.ts).
   */
  deferFlushIn?: string
}

/**
 * Moves a fully written and verified file into `blobs/<etag>` and returns the blob path.
 * The data is flushed before the rename (or a marker is, see `deferFlushIn`), so `blobs/<etag>` never
 * exists partially, not even after a power cut; if the blob is already there the source is dropped. The
 * caller is responsible for the hash check.
 */
export async function commitBlob(
  cacheDir: string,
  repo: RepoRef,
  etag: string,
  fromPath: string,
  options: CommitBlobOptions = {},
): Promise<string> {
  const dest = blobPath(cacheDir, repo, etag)
  if (resolve(fromPath) === resolve(dest)) return dest
  await ensureCacheDirTag(cacheDir)
  await mkdir(dirname(dest), { recursive: true })
  if ((await lstatOrNull(dest)) !== null) {
    await rm(fromPath, { force: true })
    return dest
  }
  if (options.deferFlushIn !== undefined) await noteUnsyncedBlob(options.deferFlushIn, dest)
  else await fsyncFile(fromPath)
  try {
    await rename(fromPath, dest)
  } catch (err) {
    if (errorCode(err) !== 'EXDEV') throw err
    await copyAcrossDevices(fromPath, dest)
  }
  if (options.deferFlushIn === undefined) await fsyncDir(dirname(dest))
  return dest
}

/**
 * Writes `bytes` as `blobs/<etag>` through a temporary `blobs/<etag>.<8hex>.incomplete`
 * (which a scan reports as incomplete if the process dies) and returns the blob path.
 * Does nothing when the blob exists. The caller is responsible for the hash check.
 */
export async function writeBlob(
  cacheDir: string,
  repo: RepoRef,
  etag: string,
  bytes: Uint8Array,
): Promise<string> {
  const dest = blobPath(cacheDir, repo, etag)
  if ((await lstatOrNull(dest)) !== null) return dest
  await mkdir(dirname(dest), { recursive: true })
  const temp = `${dest}.${randomHex8()}.incomplete`
  try {
    const handle = await open(temp, 'wx')
    try {
      await handle.writeFile(bytes)
    } finally {
      await handle.close()
    }
    return await commitBlob(cacheDir, repo, etag, temp)
  } catch (err) {
    await rm(temp, { force: true })
    throw err
  }
}

// The source lives on another file system: copy next to the blob first, then rename.
async function copyAcrossDevices(fromPath: string, dest: string): Promise<void> {
  const temp = `${dest}.${randomHex8()}.incomplete`
  try {
    await copyFile(fromPath, temp)
    await fsyncFile(temp)
    await rename(temp, dest)
  } catch (err) {
    await rm(temp, { force: true })
    throw err
  }
  await rm(fromPath, { force: true })
}
