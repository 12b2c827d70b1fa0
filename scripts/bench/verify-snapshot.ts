import { createHash } from 'node:crypto'
import { open, readdir, readFile } from 'node:fs/promises'
import { join, relative, sep } from 'node:path'
import type { SourceRepo } from './bench-repos.ts'

export class SnapshotMismatchError extends Error {
  override name = 'SnapshotMismatchError'
}

/**
 * Checks that the HF cache under `cacheDir` holds `refs/main` → `snapshots/<commit>/` with exactly the
 * files of `repo`, each byte-identical to its source (sha256). Returns the commit.
 */
export async function verifySnapshot(cacheDir: string, repo: SourceRepo): Promise<string> {
  const repoDir = join(cacheDir, `models--${repo.id.split('/').join('--')}`)
  const commit = (await readFile(join(repoDir, 'refs', 'main'), 'utf8').catch(() => '')).trim()
  if (!/^[0-9a-f]{40}$/.test(commit)) throw new SnapshotMismatchError(`${repo.id}: no valid refs/main`)
  const dir = join(repoDir, 'snapshots', commit)
  const entries = await readdir(dir, { recursive: true, withFileTypes: true })
  const found = entries
    .filter((e) => !e.isDirectory())
    .map((e) => relative(dir, join(e.parentPath, e.name)).split(sep).join('/'))
    .sort()
  const expected = [...repo.sha256.keys()].sort()
  if (found.join('\n') !== expected.join('\n')) {
    const missing = expected.filter((p) => !found.includes(p))
    const extra = found.filter((p) => !repo.sha256.has(p))
    throw new SnapshotMismatchError(
      `${repo.id}: snapshot files differ; missing [${missing.join(', ')}], extra [${extra.join(', ')}]`,
    )
  }
  for (const path of expected) {
    const got = await sha256File(join(dir, path))
    if (got !== repo.sha256.get(path)) {
      throw new SnapshotMismatchError(
        `${repo.id}/${path}: sha256 ${got}, the source has ${repo.sha256.get(path)}`,
      )
    }
  }
  return commit
}

/** sha256 hex of a file, read 8 MiB at a time. */
export async function sha256File(path: string): Promise<string> {
  const fh = await open(path, 'r')
  const hash = createHash('sha256')
  const buf = Buffer.allocUnsafe(8 * 1024 * 1024)
  try {
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.byteLength, null)
      if (bytesRead === 0) break
      hash.update(buf.subarray(0, bytesRead))
    }
  } finally {
    await fh.close()
  }
  return hash.digest('hex')
}
