/** The disk under the cache (or HFFS_HOME) filled up during a pull; what was written is kept for resume. */
export class DiskFullError extends Error {
  override name = 'DiskFullError'
  readonly code = 'ENOSPC'
}

const DISK_FULL_CODES = new Set(['ENOSPC', 'EDQUOT'])
/** SQLite's result code for "database or disk is full" (node:sqlite puts it in `errcode`). */
const SQLITE_FULL = 13

/**
 * `err` as a DiskFullError when it is the filesystem (or the shard index) saying no space or quota is left,
 * so that it keeps its meaning across the control API (which carries only a name and a message); any other
 * error unchanged.
 */
export function diskFullOr(err: unknown, cacheDir: string): unknown {
  const { code, errcode } = (err ?? {}) as { code?: unknown; errcode?: unknown }
  const full = (typeof code === 'string' && DISK_FULL_CODES.has(code)) || errcode === SQLITE_FULL
  if (!full) return err
  const what = code === 'EDQUOT' ? 'disk quota exceeded' : 'no space left'
  return new DiskFullError(
    `disk full: ${what} for the pull into ${cacheDir}; free some space and pull again (it resumes)`,
  )
}
