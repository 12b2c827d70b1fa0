import { open, type FileHandle } from 'node:fs/promises'

/** A handle is checked against its recorded size and mtime again when its last check is older than this. */
const RECHECK_MS = 1000
/** A handle nobody used for this long is closed. */
const IDLE_MS = 5000
/** Most files kept open; past it, the least recently used idle ones are closed. */
const MAX_OPEN = 64

interface Entry {
  fh: FileHandle
  size: number
  mtimeMs: number
  checkedAt: number
  usedAt: number
  users: number
  /** Set once the file failed a check: closed when its last user is done, never handed out again. */
  stale: boolean
}

export interface OpenBlobFilesOptions {
  recheckMs?: number
  idleMs?: number
  maxOpen?: number
}

/** A blob file open for reading; call release() when done with it. */
export interface BlobFileLease {
  fh: FileHandle
  release(): void
}

/**
 * Blob files kept open while peers read them chunk by chunk: opening, checking and closing a file for every
 * batch of chunks costs more syscalls than the reads. A file is handed out only while it still has the size
 * and mtime it was verified with (checked again every RECHECK_MS); idle files are closed after IDLE_MS.
 */
export class OpenBlobFiles {
  private readonly entries = new Map<string, Entry>()
  private readonly sweeper: NodeJS.Timeout
  private readonly recheckMs: number
  private readonly maxOpen: number
  private closed = false

  constructor(options: OpenBlobFilesOptions = {}) {
    this.recheckMs = options.recheckMs ?? RECHECK_MS
    this.maxOpen = options.maxOpen ?? MAX_OPEN
    const idleMs = options.idleMs ?? IDLE_MS
    this.sweeper = setInterval(() => void this.sweep(Date.now() - idleMs), idleMs)
    this.sweeper.unref()
  }

  /** The file at `path`, open, if it has this size and (whole-millisecond) mtime; else null. */
  async acquire(path: string, size: number, mtimeMs: number): Promise<BlobFileLease | null> {
    if (this.closed) return null
    const now = Date.now()
    let entry = this.entries.get(path)
    if (entry !== undefined && (entry.stale || entry.size !== size || entry.mtimeMs !== mtimeMs)) {
      this.retire(path, entry)
      entry = undefined
    }
    if (entry === undefined) {
      let fh: FileHandle
      try {
        fh = await open(path, 'r')
      } catch {
        return null
      }
      const fresh: Entry = { fh, size, mtimeMs, checkedAt: 0, usedAt: now, users: 0, stale: false }
      // Another caller may have opened it meanwhile: keep one.
      const raced = this.entries.get(path)
      if (raced !== undefined && !raced.stale && raced.size === size && raced.mtimeMs === mtimeMs) {
        await fh.close().catch(() => {})
        entry = raced
      } else {
        if (raced !== undefined) this.retire(path, raced)
        entry = fresh
        this.entries.set(path, entry)
        if (this.closed) {
          this.retire(path, entry)
          return null
        }
      }
    }
    entry.users++
    entry.usedAt = now
    if (now - entry.checkedAt >= this.recheckMs) {
      const ok = await entry.fh.stat().then(
        (st) => st.size === size && Math.trunc(st.mtimeMs) === mtimeMs,
        () => false,
      )
      if (!ok) {
        entry.users--
        this.retire(path, entry)
        return null
      }
      entry.checkedAt = Date.now()
    }
    if (this.entries.size > this.maxOpen) void this.sweep(Infinity, this.maxOpen)
    const held = entry
    let released = false
    return {
      fh: held.fh,
      release: () => {
        if (released) return
        released = true
        held.users--
        if (held.stale && held.users === 0) void held.fh.close().catch(() => {})
      },
    }
  }

  /** Closes every file not in use now and the others when their users release them. */
  async close(): Promise<void> {
    this.closed = true
    clearInterval(this.sweeper)
    for (const [path, entry] of [...this.entries]) this.retire(path, entry)
  }

  /** Closes idle files last used before `before`, oldest first, until at most `keep` remain. */
  private async sweep(before: number, keep = 0): Promise<void> {
    const idle = [...this.entries].filter(([, e]) => e.users === 0).sort((a, b) => a[1].usedAt - b[1].usedAt)
    for (const [path, entry] of idle) {
      if (this.entries.size <= keep) break
      if (entry.usedAt < before || keep > 0) this.retire(path, entry)
    }
  }

  private retire(path: string, entry: Entry): void {
    entry.stale = true
    if (this.entries.get(path) === entry) this.entries.delete(path)
    if (entry.users === 0) void entry.fh.close().catch(() => {})
  }
}
