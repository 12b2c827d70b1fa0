import { readdir, readlink, stat } from 'node:fs/promises'
import { basename, join, relative, sep } from 'node:path'
import { isCommitHash, isEtag, readRef, snapshotDir, type RepoRef } from '../../store/hf-cache/index.ts'
import type { RemoteFile, RemoteSnapshot } from '../../protocols/hub/fetch-snapshot.ts'

/** The snapshot as the cache has it: commit from `refs/`, files and etags from the snapshot links. */
export async function localSnapshot(
  cacheDir: string,
  repo: RepoRef,
  revision: string,
): Promise<RemoteSnapshot | null> {
  const commit = isCommitHash(revision) ? revision : await readRef(cacheDir, repo, revision)
  if (commit === null) return null
  const dir = snapshotDir(cacheDir, repo, commit)
  let entries
  try {
    entries = await readdir(dir, { recursive: true, withFileTypes: true })
  } catch {
    return null
  }
  const files: RemoteFile[] = []
  for (const e of entries) {
    if (!e.isSymbolicLink()) continue
    const full = join(e.parentPath, e.name)
    const etag = basename(await readlink(full))
    if (!isEtag(etag)) continue
    files.push({
      path: relative(dir, full).split(sep).join('/'),
      size: (await stat(full).catch(() => null))?.size ?? -1,
      etag,
      lfs: etag.length === 64,
      xetHash: null,
    })
  }
  return files.length === 0 ? null : { commit, files: files.sort((a, b) => a.path.localeCompare(b.path)) }
}
