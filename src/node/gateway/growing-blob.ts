import { open, readFile, stat, type FileHandle } from 'node:fs/promises'
import { blobPath, incompleteBlobPath } from '../../store/hf-cache/index.ts'
import { chunkHash, hashToHex, initXet } from '../../store/xet/index.ts'
import {
  contiguousPrefix,
  progressPath,
  type DownloadProgress,
} from '../../protocols/hub/download-progress.ts'
import type { BlobPull } from './blob-pulls.ts'
import { STREAM_PIECE_BYTES, STREAM_POLL_MS, STREAM_STALL_MS } from './constants.ts'
import { GatewayError } from './hub-answer.ts'

const MTIME_SLACK_MS = 20

export interface GrowingBlobInit {
  cacheDir: string
  home: string
  pull: BlobPull
  /** Default STREAM_STALL_MS. */
  stallMs?: number
}

/**
 * Reads a blob while its pull is still writing it, handing out only bytes that are safe to send: on the
 * peer path, whole chunks whose bytes on disk hash to the manifest's chunk hash (so a half-written or
 * not-yet-written chunk is never sent, whatever order chunks land in); on the upstream path, the
 * contiguous prefix the download has written (the upstream's own bytes, as a direct download would get
 * them; the whole file is hashed at the end and a failure cuts the response). Once the pull is done the
 * rest comes from `blobs/<etag>`.
 */
export class GrowingBlob {
  private readonly init: GrowingBlobInit
  private incomplete: FileHandle | null = null
  private complete: FileHandle | null = null
  private offsets: number[] | null = null
  private scratch = Buffer.alloc(0)
  /** Chunks 0..n-1 verified on disk (only counted from the start, as a client reads in order). */
  private verifiedChunks = 0
  /** Whether bytes of the upstream path were handed out before the whole-file check. */
  private sentUnverified = false

  constructor(init: GrowingBlobInit) {
    this.init = init
  }

  /**
   * Up to `max` bytes from `pos` (at least one), waiting for them as long as the pull makes progress.
   * Throws the pull's error if it fails, a 504 GatewayError if it stalls.
   */
  async read(pos: number, max: number, signal: AbortSignal): Promise<Uint8Array> {
    const { pull } = this.init
    let lastProgress = Date.now()
    for (;;) {
      signal.throwIfAborted()
      if (pull.state === 'done') return this.readComplete(pos, max)
      if (pull.state === 'failed') throw pull.error ?? new Error('the pull failed')
      const changed = pull.changed()
      const bytes = await this.readVerified(pos, max)
      if (bytes !== null && bytes.byteLength > 0) return bytes
      if (Date.now() - lastProgress > (this.init.stallMs ?? STREAM_STALL_MS)) {
        const seconds = (this.init.stallMs ?? STREAM_STALL_MS) / 1000
        throw new GatewayError(504, null, `no new bytes of blob ${pull.etag} for ${seconds} s`)
      }
      const woken = await Promise.race([
        changed.then(() => true),
        new Promise<boolean>((resolve) => setTimeout(() => resolve(false), STREAM_POLL_MS)),
      ])
      if (woken) lastProgress = Date.now()
    }
  }

  async close(): Promise<void> {
    await this.incomplete?.close().catch(() => {})
    await this.complete?.close().catch(() => {})
    this.incomplete = null
    this.complete = null
  }

  private async readComplete(pos: number, max: number): Promise<Uint8Array> {
    const { pull, cacheDir } = this.init
    this.complete ??= await open(blobPath(cacheDir, pull.repo, pull.etag), 'r')
    const buf = Buffer.allocUnsafe(Math.min(max, STREAM_PIECE_BYTES, pull.size - pos))
    const { bytesRead } = await this.complete.read(buf, 0, buf.byteLength, pos)
    if (bytesRead === 0) throw new GatewayError(502, null, `blob ${pull.etag} is shorter than its size`)
    return buf.subarray(0, bytesRead)
  }

  private async readVerified(pos: number, max: number): Promise<Uint8Array | null> {
    const fh = await this.openIncomplete()
    if (fh === null) return null
    if (this.init.pull.manifest !== null) return this.readChunks(fh, pos, max)
    const prefix = await this.upstreamPrefix(fh)
    if (prefix <= pos || this.incomplete === null) return null
    const buf = Buffer.allocUnsafe(Math.min(max, STREAM_PIECE_BYTES, prefix - pos))
    const { bytesRead } = await this.incomplete.read(buf, 0, buf.byteLength, pos)
    if (bytesRead > 0) this.sentUnverified = true
    return buf.subarray(0, bytesRead)
  }

  /**
   * Whole verified chunks from the one holding `pos`, about a piece's worth. Chunks are read and hashed
   * one at a time, so that a wake-up before the next chunk has landed costs one chunk, not a piece; a
   * chunk verified once is not hashed again.
   */
  private async readChunks(fh: FileHandle, pos: number, max: number): Promise<Uint8Array | null> {
    const { chunks } = this.init.pull.manifest as NonNullable<BlobPull['manifest']>
    await initXet()
    const offsets = (this.offsets ??= chunkOffsets(chunks))
    const first = upperBound(offsets, pos) - 1
    const want = Math.min(max, STREAM_PIECE_BYTES)
    let last = first
    while (last < chunks.length && offsets[last] - pos < want) last++
    const start = offsets[first]
    const span = offsets[last - 1] + chunks[last - 1].length - start
    // Read into a scratch buffer, reused while chunks are not there yet; what verifies is copied out.
    if (this.scratch.byteLength < span) this.scratch = Buffer.allocUnsafe(span)
    const buf = this.scratch
    let end = start
    for (let i = first; i < last; i++) {
      const piece = buf.subarray(offsets[i] - start, offsets[i] - start + chunks[i].length)
      const { bytesRead } = await fh.read(piece, 0, piece.byteLength, offsets[i])
      if (bytesRead < piece.byteLength) break
      if (i >= this.verifiedChunks && hashToHex(chunkHash(piece)) !== hashToHex(chunks[i].hash)) break
      if (i === this.verifiedChunks) this.verifiedChunks++
      end += piece.byteLength
    }
    if (end <= pos) return null
    return Buffer.from(buf.subarray(pos - start, Math.min(end, pos + max) - start))
  }

  /**
   * How far the upstream download has written without a gap, from its resume file; only a file written
   * since this pull began counts (an older one may describe a file that is being started over).
   */
  private async upstreamPrefix(fh: FileHandle): Promise<number> {
    const { pull, home } = this.init
    let p: DownloadProgress
    try {
      const path = progressPath(home, pull.etag)
      // File times come from a coarse clock that may lag Date.now() by a few milliseconds.
      if ((await stat(path)).mtimeMs < pull.startedAt - MTIME_SLACK_MS) return 0
      p = JSON.parse(await readFile(path, 'utf8')) as DownloadProgress
      if (p.etag !== pull.etag || p.size !== pull.size || !Array.isArray(p.written)) return 0
      // The download starts over in a new file when its hash check fails: this handle is then stale.
      const onDisk = await stat(incompleteBlobPath(this.init.cacheDir, pull.repo, pull.etag))
      if (onDisk.ino !== (await fh.stat()).ino) {
        if (this.sentUnverified)
          throw new GatewayError(502, null, `blob ${pull.etag} failed its check and is downloaded again`)
        await this.incomplete?.close().catch(() => {})
        this.incomplete = null
        return 0
      }
    } catch (err) {
      if (err instanceof GatewayError) throw err
      return 0
    }
    return contiguousPrefix(p)
  }

  private async openIncomplete(): Promise<FileHandle | null> {
    if (this.incomplete !== null) return this.incomplete
    const { pull, cacheDir } = this.init
    try {
      this.incomplete = await open(incompleteBlobPath(cacheDir, pull.repo, pull.etag), 'r')
    } catch {
      return null
    }
    return this.incomplete
  }
}

function chunkOffsets(chunks: readonly { length: number }[]): number[] {
  const offsets: number[] = []
  let pos = 0
  for (const c of chunks) {
    offsets.push(pos)
    pos += c.length
  }
  return offsets
}

/** The first index whose value is greater than `x` (offsets are increasing). */
function upperBound(values: readonly number[], x: number): number {
  let lo = 0
  let hi = values.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (values[mid] <= x) lo = mid + 1
    else hi = mid
  }
  return lo
}
