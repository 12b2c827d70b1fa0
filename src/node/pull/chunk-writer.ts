import type { FileHandle } from 'node:fs/promises'
import { copyParts, joinParts, partsLength, type ByteParts } from '../../store/byte-parts.ts'
import { chunkHash, HASH_BYTES, initXet, sameHash } from '../../store/xet/index.ts'
import type { WriteWorker } from './write-worker.ts'

/** Default bytes of one staging buffer, and how many a writer may hold (allocated as needed). */
const RUN_BYTES = 2 * 1024 * 1024
const MAX_RUNS = 4
/**
 * A run open this long is written even if not full: its chunks are announced to the peers (have-map) only
 * once on disk, and over a slow link a 2 MiB run took seconds to fill, long enough for the nodes pulling
 * along to think this one had stalled and take its shares over.
 */
const MAX_RUN_AGE_MS = 250

/** A chunk written unchecked that turned out not to match its hash (`got`). */
export interface BadChunk {
  tag: number
  got: Uint8Array
}

export interface ChunkWriterOptions {
  /** Called with the tags of writes once their bytes are in the file (and checked, for those to check). */
  onWritten: (tags: number[]) => void
  /** Called with the writes to check whose bytes do not match their hash: in the file, but not theirs. */
  onBad?: (bad: BadChunk[]) => void
  /** Where runs with chunks to check are checked and written; else they are checked here. */
  worker?: WriteWorker | null
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
  /** Per tag: where its bytes start in `buf`, and the hash they must have (null: checked before). */
  offsets: number[]
  expected: (Uint8Array | null)[]
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
 *
 * A chunk written with the hash it must have is checked when its run is written: on the write worker, which
 * then writes the run (the hashing leaves the event loop; see write-worker.ts), else here. Only the chunks that
 * match go to `onWritten`; the others go to `onBad`, their bytes in the file until they are written again.
 */
export class ChunkWriter {
  private readonly fh: FileHandle
  private readonly onWritten: (tags: number[]) => void
  private readonly onBad: (bad: BadChunk[]) => void
  private readonly worker: WriteWorker | null
  private readonly runBytes: number
  private readonly maxRuns: number
  /** Open runs by the offset where each ends, oldest first. */
  private readonly runs = new Map<number, Run>()
  private readonly free: Buffer[] = []
  private allocated = 0
  private waiters: (() => void)[] = []
  private readonly writing = new Set<Promise<unknown>>()
  private readonly maxRunAgeMs: number
  private timer: ReturnType<typeof setTimeout> | null = null
  /** A write started by the timer failed: the next write() or flush() throws it. */
  private failure: { error: unknown } | null = null

  constructor(fh: FileHandle, options: ChunkWriterOptions) {
    this.fh = fh
    this.onWritten = options.onWritten
    this.onBad = options.onBad ?? (() => {})
    this.worker = options.worker ?? null
    this.runBytes = Math.max(1, Math.min(options.runBytes ?? RUN_BYTES, options.fileSize))
    this.maxRuns = options.maxRuns ?? MAX_RUNS
    this.maxRunAgeMs = options.maxRunAgeMs ?? MAX_RUN_AGE_MS
  }

  /**
   * Writes `data` at `position` (now or with its run); `tag` goes to `onWritten` once it is on disk, or to
   * `onBad` if `expected` (the hash it must have) is given and does not match.
   */
  async write(
    data: ByteParts,
    position: number,
    tag: number,
    expected: Uint8Array | null = null,
  ): Promise<void> {
    this.throwFailure()
    const length = partsLength(data)
    let run = this.runs.get(position)
    if (run !== undefined && run.length + length > this.runBytes) {
      await this.writeRun(run)
      run = undefined
    }
    if (run === undefined) {
      if (length > this.runBytes) {
        const bytes = joinParts(data)
        if (expected !== null) await initXet()
        const bad = expected === null ? [] : checkHere(bytes, [0, length], [expected], [tag])
        await writeFully(this.fh, bytes, position)
        this.report([tag], bad)
        return
      }
      run = {
        buf: await this.takeBuffer(),
        start: position,
        length: 0,
        tags: [],
        offsets: [],
        expected: [],
        openedAt: performance.now(),
      }
      this.arm()
    } else this.runs.delete(position)
    run.offsets.push(run.length)
    run.length += copyParts(data, run.buf, run.length)
    run.tags.push(tag)
    run.expected.push(expected)
    const end = run.start + run.length
    // Only a chunk written twice at one offset could end two runs at once; never drop one if it does.
    const clash = this.runs.get(end)
    if (clash !== undefined) await this.writeRun(clash)
    this.runs.set(end, run)
    if (run.length === this.runBytes) await this.writeRun(run)
  }

  /**
   * Writes every open run, and waits for every write under way to end, even after one fails: the worker's
   * use the file's descriptor, which the caller closes next.
   */
  async flush(): Promise<void> {
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
    try {
      for (const run of [...this.runs.values()]) await this.writeRun(run)
    } finally {
      await Promise.allSettled(this.writing)
    }
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
        // Its own ArrayBuffer, never a slice of Node's pool: it may be moved to the write worker.
        return Buffer.allocUnsafeSlow(this.runBytes)
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
    const writing = this.persist(run)
    this.writing.add(writing)
    let bad: BadChunk[]
    try {
      bad = await writing
    } finally {
      this.writing.delete(writing)
      // Moved to a worker that failed, the buffer is gone: another may be allocated in its place.
      if (run.buf.byteLength === this.runBytes) this.free.push(run.buf)
      else this.allocated--
      const waiters = this.waiters
      this.waiters = []
      for (const wake of waiters) wake()
    }
    this.report(run.tags, bad)
  }

  /** Checks the run's chunks that have a hash to match, and writes it: on the worker when there is one. */
  private async persist(run: Run): Promise<BadChunk[]> {
    const spans: number[] = []
    const expected: Uint8Array[] = []
    const tags: number[] = []
    for (let i = 0; i < run.tags.length; i++) {
      const hash = run.expected[i]
      if (hash === null) continue
      const at = run.offsets[i]
      spans.push(at, (i + 1 < run.offsets.length ? run.offsets[i + 1] : run.length) - at)
      expected.push(hash)
      tags.push(run.tags[i])
    }
    if (expected.length > 0 && this.worker?.running === true) {
      const joined = new Uint8Array(expected.length * HASH_BYTES)
      expected.forEach((hash, k) => joined.set(hash, k * HASH_BYTES))
      const done = await this.worker.write(
        this.fh.fd,
        run.buf,
        run.length,
        run.start,
        Uint32Array.from(spans),
        joined,
      )
      run.buf = Buffer.from(done.buffer.buffer, done.buffer.byteOffset, done.buffer.byteLength)
      return done.bad.map(({ index, got }) => ({ tag: tags[index], got }))
    }
    if (expected.length > 0) await initXet()
    const bad = checkHere(run.buf, spans, expected, tags)
    await writeFully(this.fh, run.buf.subarray(0, run.length), run.start)
    return bad
  }

  private report(tags: number[], bad: BadChunk[]): void {
    if (bad.length === 0) {
      this.onWritten(tags)
      return
    }
    const wrong = new Set(bad.map((b) => b.tag))
    this.onWritten(tags.filter((tag) => !wrong.has(tag)))
    this.onBad(bad)
  }
}

/** The chunks at `spans` ([offset, length] pairs in `bytes`) that do not hash to `expected`, by tag. */
function checkHere(bytes: Uint8Array, spans: number[], expected: Uint8Array[], tags: number[]): BadChunk[] {
  const bad: BadChunk[] = []
  for (let k = 0; k < expected.length; k++) {
    const got = chunkHash(bytes.subarray(spans[2 * k], spans[2 * k] + spans[2 * k + 1]))
    if (!sameHash(got, expected[k])) bad.push({ tag: tags[k], got })
  }
  return bad
}

async function writeFully(fh: FileHandle, data: Uint8Array, position: number): Promise<void> {
  for (let off = 0; off < data.byteLength;) {
    const { bytesWritten } = await fh.write(data, off, data.byteLength - off, position + off)
    off += bytesWritten
  }
}
