import { lstat, mkdir, open, readFile, rename, unlink, link, utimes } from 'node:fs/promises'
import { hostname } from 'node:os'
import { dirname } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { ensureCacheDirTag } from './cachedir-tag.ts'
import { errorCode, lstatOrNull, randomHex8 } from './fs-util.ts'
import { lockPath } from './paths.ts'
import type { RepoRef } from './repo.ts'

/** Options of withBlobLock. */
export interface BlobLockOptions {
  /** Stops waiting for the lock (the function is not called). */
  signal?: AbortSignal
  /** A lock file not refreshed for this long is taken over, whoever holds it. Default 60 000 ms. */
  staleMs?: number
  /** Delay between two attempts while another process holds the lock. Default 100 ms. */
  pollMs?: number
}

const DEFAULT_STALE_MS = 60_000
const DEFAULT_POLL_MS = 100

interface Holder {
  ino: number
  mtimeMs: number
  pid: number | null
  host: string | null
}

/**
 * Runs `fn` while holding `.locks/<repo folder>/<etag>.lock`, so that two processes do not
 * write the same blob at once. The lock file is created with O_EXCL and holds `<pid>\n<host>\n`;
 * its mtime is refreshed while held. A lock whose process is gone (same host) or which has not
 * been refreshed for `staleMs` is taken over. Blob writes are atomic anyway, so a rare double
 * holder costs duplicate work, never a corrupt blob. Not re-entrant.
 */
export async function withBlobLock<T>(
  cacheDir: string,
  repo: RepoRef,
  etag: string,
  fn: () => Promise<T>,
  options: BlobLockOptions = {},
): Promise<T> {
  const path = lockPath(cacheDir, repo, etag)
  const staleMs = options.staleMs ?? DEFAULT_STALE_MS
  await ensureCacheDirTag(cacheDir)
  await mkdir(dirname(path), { recursive: true })
  const ino = await acquire(path, staleMs, options.pollMs ?? DEFAULT_POLL_MS, options.signal)
  const heartbeat = setInterval(
    () => {
      const now = new Date()
      utimes(path, now, now).catch(() => {})
    },
    Math.max(10, staleMs / 4),
  )
  heartbeat.unref()
  try {
    return await fn()
  } finally {
    clearInterval(heartbeat)
    await release(path, ino)
  }
}

async function acquire(path: string, staleMs: number, pollMs: number, signal?: AbortSignal): Promise<number> {
  for (;;) {
    signal?.throwIfAborted()
    const created = await createLockFile(path)
    if (created !== null) return created
    const holder = await readHolder(path)
    if (holder === null) continue
    if (isStale(holder, staleMs)) {
      await breakLock(path, holder)
      continue
    }
    await delay(pollMs / 2 + Math.random() * pollMs, undefined, { signal }).catch((err: unknown) => {
      signal?.throwIfAborted() // surface the signal's own reason (TimeoutError, …)
      throw err
    })
  }
}

// The lock file's inode when we created it, null when someone else holds it.
async function createLockFile(path: string): Promise<number | null> {
  let handle
  try {
    handle = await open(path, 'wx', 0o664)
  } catch (err) {
    if (errorCode(err) === 'EEXIST') return null
    throw err
  }
  try {
    await handle.writeFile(`${process.pid}\n${hostname()}\n`)
    return (await handle.stat()).ino
  } catch (err) {
    await unlink(path).catch(() => {})
    throw err
  } finally {
    await handle.close()
  }
}

async function readHolder(path: string): Promise<Holder | null> {
  const stats = await lstatOrNull(path)
  if (stats === null) return null
  let text = ''
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return null
  }
  const [pidLine, hostLine] = text.split('\n')
  const pid = /^\d+$/.test(pidLine ?? '') ? Number(pidLine) : null
  return { ino: stats.ino, mtimeMs: stats.mtimeMs, pid, host: hostLine ? hostLine : null }
}

function isStale(holder: Holder, staleMs: number): boolean {
  if (Date.now() - holder.mtimeMs > staleMs) return true
  return holder.pid !== null && holder.host === hostname() && !processExists(holder.pid)
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return errorCode(err) === 'EPERM'
  }
}

// Move the stale file aside first, so that a lock someone created in the meantime is put back, not deleted.
async function breakLock(path: string, stale: Holder): Promise<void> {
  const aside = `${path}.${randomHex8()}.stale`
  try {
    await rename(path, aside)
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return
    throw err
  }
  try {
    const moved = await lstat(aside)
    if (moved.ino !== stale.ino || moved.mtimeMs !== stale.mtimeMs) await link(aside, path).catch(() => {})
  } finally {
    await unlink(aside).catch(() => {})
  }
}

async function release(path: string, ino: number): Promise<void> {
  const stats = await lstatOrNull(path)
  if (stats !== null && stats.ino === ino) await unlink(path).catch(() => {})
}
