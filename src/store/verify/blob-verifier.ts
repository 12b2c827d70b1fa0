import { Worker } from 'node:worker_threads'
import type { BlobKind } from '../index-db/shard-index.ts'
import type { ChunkInfo } from '../xet/index.ts'
import type { VerifierReply, VerifierRequest } from './verifier-protocol.ts'
import { siblingModuleUrl } from '../module-url.ts'

export class VerifierError extends Error {
  override name = 'VerifierError'
}

export interface VerifiedBlob {
  /** The blob's hash in its etag's form (sha256 or git blob sha1), hex. */
  etag: string
  chunks: ChunkInfo[]
}

/** Hashes and chunks a blob file while it is written: begin, advance(n) as the first n bytes land, finish. */
export interface Verifier {
  /** `etag: false` skips the etag hash (the caller verifies the content another way); `etag` is then ''. */
  begin(path: string, kind: BlobKind, size: number, jobs?: { etag: boolean }): void
  advance(upTo: number): void
  finish(signal?: AbortSignal): Promise<VerifiedBlob>
  close(): Promise<void>
}

/**
 * Hashes and chunks a blob file while it is being written, on a worker thread: `begin`, then `advance(n)`
 * each time the first n bytes are on disk, then `finish`. One blob at a time; reusable; close() when done.
 */
export class BlobVerifier implements Verifier {
  private readonly worker: Worker
  private pending: { resolve: (v: VerifiedBlob) => void; reject: (e: Error) => void } | null = null
  private error: Error | null = null
  private constructor(worker: Worker) {
    this.worker = worker
    worker.on('message', (msg: VerifierReply) => {
      if (msg.op === 'error') {
        this.error = new VerifierError(`verifying the blob failed: ${msg.message}`)
        this.pending?.reject(this.error)
      } else {
        this.pending?.resolve({ etag: msg.etag, chunks: unpack(msg) })
      }
      this.pending = null
    })
    worker.on('error', (err) => {
      this.error = new VerifierError(`the verifier thread failed: ${err.message}`)
      this.pending?.reject(this.error)
      this.pending = null
    })
    worker.unref()
  }

  static start(): BlobVerifier {
    // It reads into one buffer and hashes in WebAssembly: a small young generation is plenty, and a pull
    // may run two of these at once (see pullLargeFiles).
    return new BlobVerifier(
      new Worker(siblingModuleUrl('verify-worker', import.meta.url), {
        resourceLimits: { maxYoungGenerationSizeMb: 4 },
      }),
    )
  }

  begin(path: string, kind: BlobKind, size: number, jobs: { etag: boolean } = { etag: true }): void {
    this.error = null
    this.send({ op: 'begin', path, kind, size, etag: jobs.etag, chunks: true })
  }

  /** The first `upTo` bytes of the file are written: hash them. */
  advance(upTo: number): void {
    this.send({ op: 'advance', upTo })
  }

  finish(signal?: AbortSignal): Promise<VerifiedBlob> {
    if (this.error !== null) return Promise.reject(this.error)
    return new Promise<VerifiedBlob>((resolve, reject) => {
      const onAbort = (): void => reject(signal?.reason as Error)
      signal?.addEventListener('abort', onAbort, { once: true })
      this.pending = {
        resolve: (v) => {
          signal?.removeEventListener('abort', onAbort)
          resolve(v)
        },
        reject: (e) => {
          signal?.removeEventListener('abort', onAbort)
          reject(e)
        },
      }
      this.worker.ref()
      this.send({ op: 'finish' })
    }).finally(() => this.worker.unref())
  }

  async close(): Promise<void> {
    await this.worker.terminate()
  }

  private send(msg: VerifierRequest): void {
    this.worker.postMessage(msg)
  }
}

function unpack(msg: Extract<VerifierReply, { op: 'done' }>): ChunkInfo[] {
  return msg.offsets.map((offset, i) => ({
    offset,
    length: msg.lengths[i],
    hash: msg.hashes.slice(i * 32, i * 32 + 32),
  }))
}

/** A BlobVerifier whose thread starts with the first blob it verifies: a pull that peers serve needs none. */
export class LazyBlobVerifier implements Verifier {
  private inner: BlobVerifier | null = null

  begin(path: string, kind: BlobKind, size: number, jobs?: { etag: boolean }): void {
    this.inner ??= BlobVerifier.start()
    this.inner.begin(path, kind, size, jobs)
  }

  advance(upTo: number): void {
    this.inner?.advance(upTo)
  }

  finish(signal?: AbortSignal): Promise<VerifiedBlob> {
    if (this.inner === null) return Promise.reject(new VerifierError('finish() before begin()'))
    return this.inner.finish(signal)
  }

  async close(): Promise<void> {
    await this.inner?.close()
  }
}
