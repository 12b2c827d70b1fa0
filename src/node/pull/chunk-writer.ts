import type { FileHandle } from 'node:fs/promises'
import { copyParts, joinParts, partsLength, type ByteParts } from '../../store/byte-parts.ts'

/** Default bytes of one staging buffer, and how many a writer may hold (allocated as needed). */
const RUN_BYTES = 2 * 1024 * 1024
const MAX_RUNS = 4
/**
 * A run open this long is written even if not full: its chunks are announced to the peers (have-map) only
 * once on disk, and over a slow link a 2 MiB run took seconds to fill, long enough for the nodes pulling
 * along to think this one had stalled and take its shares over.
 */
const MAX_RUN_AGE_MS = 250

export interface ChunkWriterOptions {
  /** Called with the tags of writes once their bytes are in the file. */
  onWritten: (tags: number[]) => void
  /** Size of the file being assembled: no staging buffer is larger. */
  fileSize: number
  runBytes?: number
  maxRuns?: number
  /** Default MAX_RUN_AGE_MS; 0 writes runs only when full, needed or flushed. */
  maxRunAgeMs?: number
}

interface Run {
  buf: Buffer
  start: number
  length: number
  tags: number[]
  /** performance.now() when its first chunk came. */
  openedAt: number
}

/**
 * Writes chunks into a blob file, copying those that continue one another into a staging buffer that
 * goes to disk in one call: each fs call is a round trip through the thread pool, which costs more than
 * copying a 64 KiB chunk. Several runs are open at once, since the batches in flight interleave. A run is
 * written when full, when the next chunk does not fit, when its buffer is needed for a new run (the oldest
 * first), or by `flush()`. Chunks are copied, never held: holding them instead (the views of the decrypted
 * messages they came in), each run written with one writev, cost a pulling node ~2 CPU-s more per GiB
 * (1 GiB from one peer, 8 runs alternated with this).
 */
export class ChunkWriter {
  private readonly fh: FileHandle
  private readonly onWritten: (tags: number[]) => void
  private readonly runBytes: number
  private readonly maxRuns: number
  /** Open runs by the offset where each ends, oldest first. */
  private readonly runs = new Map<number, Run>()
  private readonly free: Buffer[] = []
  private allocated = 0
  private waiters: (() => void)[] = []
  private readonly writing = new Set<Promise<void>>()
  private readonly maxRunAgeMs: number
  private timer: ReturnType<typeof setTimeout> | null = null
  /** A write started by the timer failed: the next write() or flush() throws it. */
  private failure: { error: unknown } | null = null

  constructor(fh: FileHandle, options: ChunkWriterOptions) {
    this.fh = fh
    this.onWritten = options.onWritten
    this.runBytes = Math.max(1, Math.min(options.runBytes ?? RUN_BYTES, options.fileSize))
    this.maxRuns = options.maxRuns ?? MAX_RUNS
    this.maxRunAgeMs = options.maxRunAgeMs ?? MAX_RUN_AGE_MS
  }

  /** Writes `data` at `position` (now or with its run); `tag` goes to `onWritten` once it is on disk. */
  async write(data: ByteParts, position: number, tag: number): Promise<void> {
    this.throwFailure()
    const length = partsLength(data)
    let run = this.runs.get(position)
    if (run !== undefined && run.length + length > this.runBytes) {
      await this.writeRun(run)
      run = undefined
    }
    if (run === undefined) {
      if (length > this.runBytes) {
        await writeFully(this.fh, joinParts(data), position)
        this.onWritten([tag])
        return
      }
      run = {
        buf: await this.takeBuffer(),
        start: position,
        length: 0,
        tags: [],
        openedAt: performance.now(),
      }
      this.arm()
    } else this.runs.delete(position)
    run.length += copyParts(data, run.buf, run.length)
    run.tags.push(tag)
    const end = run.start + run.length
    // Only a chunk written twice at one offset could end two runs at once; never drop one if it does.
    const clash = this.runs.get(end)
    if (clash !== undefined) await this.writeRun(clash)
    this.runs.set(end, run)
    if (run.length === this.runBytes) await this.writeRun(run)
  }

  /** Writes every open run, and waits for the writes already under way. */
  async flush(): Promise<void> {
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
    for (const run of [...this.runs.values()]) await this.writeRun(run)
    await Promise.all(this.writing)
    this.throwFailure()
  }

  private throwFailure(): void {
    if (this.failure !== null) throw this.failure.error
  }

  /** Writes the runs open for maxRunAgeMs or more, some time after a run opens. */
  private arm(): void {
    if (this.timer !== null || this.maxRunAgeMs <= 0) return
    this.timer = setTimeout(() => {
      this.timer = null
      void this.writeStale()
    }, this.maxRunAgeMs)
    this.timer.unref()
  }

  private async writeStale(): Promise<void> {
    const now = performance.now()
    try {
      for (const run of [...this.runs.values()])
        if (now - run.openedAt >= this.maxRunAgeMs) await this.writeRun(run)
    } catch (error) {
      this.failure ??= { error }
      return
    }
    if (this.runs.size > 0) this.arm()
  }

  private async takeBuffer(): Promise<Buffer> {
    for (;;) {
      const buf = this.free.pop()
      if (buf !== undefined) return buf
      if (this.allocated < this.maxRuns) {
        this.allocated++
        return Buffer.allocUnsafe(this.runBytes)
      }
      const oldest = this.runs.values().next().value
      if (oldest !== undefined) await this.writeRun(oldest)
      else await new Promise<void>((resolve) => this.waiters.push(resolve)) // all runs are being written
    }
  }

  private async writeRun(run: Run): Promise<void> {
    const end = run.start + run.length
    if (this.runs.get(end) !== run) return // another caller is writing it
    this.runs.delete(end)
    const writing = writeFully(this.fh, run.buf.subarray(0, run.length), run.start)
    this.writing.add(writing)
    try {
      await writing
    } finally {
      this.writing.delete(writing)
      this.free.push(run.buf)
      const waiters = this.waiters
      this.waiters = []
      for (const wake of waiters) wake()
    }
    this.onWritten(run.tags)
  }
}

async function writeFully(fh: FileHandle, data: Uint8Array, position: number): Promise<void> {
  for (let off = 0; off < data.byteLength;) {
    const { bytesWritten } = await fh.write(data, off, data.byteLength - off, position + off)
    off += bytesWritten
  }
}
