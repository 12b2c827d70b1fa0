import { readdir, rm, rmdir, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { errorCode, lstatOrNull } from './fs-util.ts'
import { repoDir, snapshotDir } from './paths.ts'
import type { RepoRef } from './repo.ts'
import { scanRepoFolder } from './scan-repo.ts'
import { validateRepoFilePath } from './validate.ts'

/**
 * Removes files of one cached revision — all of them when `files` is omitted; a folder path
 * removes everything under it — and returns the bytes freed. A blob is deleted only when no
 * other snapshot entry of the repo links to it. Once the revision folder is gone, refs pointing
 * at it and its `.no_exist/` markers go too, and a repo left with no revision and no download
 * in progress is removed entirely. Paths are all validated before anything is touched.
 */
export async function removeSnapshotFiles(
  cacheDir: string,
  repo: RepoRef,
  commit: string,
  files?: string[],
): Promise<number> {
  const folder = repoDir(cacheDir, repo)
  const revisionDir = snapshotDir(cacheDir, repo, commit)
  const wanted = files?.map(validateRepoFilePath)
  if (!(await lstatOrNull(folder))?.isDirectory()) return 0
  const { repo: scanned, incomplete } = await scanRepoFolder(folder, repo, [])
  const revision = scanned?.revisions.find((r) => r.commit === commit)
  if (scanned === null || revision === undefined) return 0

  const selected = (path: string): boolean =>
    wanted === undefined || wanted.some((w) => path === w || path.startsWith(`${w}/`))
  const removing = revision.files.filter((f) => selected(f.path))
  const stillLinked = new Set(
    scanned.revisions
      .flatMap((r) => r.files.filter((f) => r.commit !== commit || !selected(f.path)))
      .map((f) => f.blobPath),
  )

  let freed = 0
  for (const file of removing) freed += await unlinkCounting(file.filePath)
  const blobs = new Set(removing.filter((f) => f.etag !== null).map((f) => f.blobPath))
  for (const blob of blobs) if (!stillLinked.has(blob)) freed += await unlinkCounting(blob)

  if (wanted === undefined) {
    freed += await removeTree(revisionDir)
  } else {
    // Entries the scan leaves out (broken links) can still be removed by name.
    for (const w of wanted) {
      const path = join(revisionDir, ...w.split('/'))
      if ((await lstatOrNull(path))?.isSymbolicLink()) await unlink(path)
    }
    await pruneEmptyFolders(revisionDir)
  }
  if ((await lstatOrNull(revisionDir)) !== null) return freed

  for (const [name, target] of Object.entries(scanned.refs)) {
    if (target === commit) await rm(join(folder, 'refs', ...name.split('/')), { force: true })
  }
  await pruneEmptyFolders(join(folder, 'refs'), false)
  await rm(join(folder, '.no_exist', commit), { recursive: true, force: true })
  const snapshotsLeft = await readdir(join(folder, 'snapshots')).catch(() => [])
  if (snapshotsLeft.length === 0 && incomplete.length === 0) freed += await removeTree(folder)
  return freed
}

// Unlinks one entry and returns the bytes that frees (0 for a link or a missing entry).
async function unlinkCounting(path: string): Promise<number> {
  const stats = await lstatOrNull(path)
  if (stats === null) return 0
  await unlink(path)
  return stats.isFile() ? stats.size : 0
}

// Removes a whole folder and returns the bytes of the regular files it held.
async function removeTree(path: string): Promise<number> {
  const bytes = await regularFileBytes(path)
  await rm(path, { recursive: true, force: true })
  return bytes
}

async function regularFileBytes(path: string): Promise<number> {
  const stats = await lstatOrNull(path)
  if (stats === null) return 0
  if (stats.isFile()) return stats.size
  if (!stats.isDirectory()) return 0
  let total = 0
  for (const name of await readdir(path)) total += await regularFileBytes(join(path, name))
  return total
}

// Removes empty folders under `dir` bottom-up, and `dir` itself when it ends up empty and `andSelf`.
async function pruneEmptyFolders(dir: string, andSelf = true): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => null)
  if (entries === null) return
  for (const entry of entries) if (entry.isDirectory()) await pruneEmptyFolders(join(dir, entry.name))
  if (!andSelf) return
  try {
    await rmdir(dir)
  } catch (err) {
    if (errorCode(err) !== 'ENOTEMPTY' && errorCode(err) !== 'EEXIST' && errorCode(err) !== 'ENOENT')
      throw err
  }
}
