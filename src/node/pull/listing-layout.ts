import { lstat } from 'node:fs/promises'
import { join } from 'node:path'
import { snapshotDir, UnsafePathError, type RepoRef } from '../../store/hf-cache/index.ts'

/**
 * Checks that the files of a listing (paths already validated one by one) can all be linked into
 * `snapshots/<commit>/` without leaving it and without one undoing another: no path twice, no file that is
 * also a folder of another file, and no folder on the way that is already on disk as something other than
 * a folder (a symlink there would carry the link out of the cache). Runs before anything is written, so a
 * hostile listing changes nothing on disk.
 */
export async function checkListingLayout(
  cacheDir: string,
  repo: RepoRef,
  commit: string,
  paths: readonly string[],
): Promise<void> {
  const files = new Set<string>()
  const folders = new Set<string>()
  for (const p of paths) {
    if (files.has(p)) throw new UnsafePathError(`"${p}" is listed twice`)
    files.add(p)
    const parts = p.split('/')
    for (let i = 1; i < parts.length; i++) folders.add(parts.slice(0, i).join('/'))
  }
  for (const f of folders) {
    if (files.has(f)) throw new UnsafePathError(`"${f}" is listed both as a file and as a folder`)
  }
  const root = snapshotDir(cacheDir, repo, commit)
  // Shallow folders first: below a folder that does not exist yet, nothing can.
  const missing = new Set<string>()
  for (const f of [...folders].sort((a, b) => a.split('/').length - b.split('/').length)) {
    const parent = f.includes('/') ? f.slice(0, f.lastIndexOf('/')) : null
    if (parent !== null && missing.has(parent)) {
      missing.add(f)
      continue
    }
    let isDir: boolean
    try {
      isDir = (await lstat(join(root, f))).isDirectory()
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
      missing.add(f)
      continue
    }
    if (!isDir) {
      throw new UnsafePathError(
        `"${f}/" is not a folder in ${root} (a symlink or a file is there): refusing to write through it`,
      )
    }
  }
}
