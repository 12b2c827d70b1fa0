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

interface Pending {
  resolve: (v: VerifiedBlob) => void
  reject: (e: Error) => void
}

/**
 * One worker thread that hashes and chunks blob files while they are written, for any number of Verifier
 * handles (verifier()), each one blob at a time; the thread starts with the first blob begun, so a pull that
 * peers serve needs none. One thread for the two files a pull overlaps: a second one cost ~50 ms of CPU to
 * start, and the bytes of one file are all in before the next one's begin.
 */
export class VerifierThread {
  private worker: Worker | null = null
  private failure: Error | null = null
  private nextJob = 1
  /** Per job: the finish() waiting for its answer, and a failure reported before one was asked. */
  private readonly pending = new Map<number, Pending>()
  private readonly errors = new Map<number, Error>()

  /** A Verifier whose blobs this thread verifies. */
  verifier(): Verifier {
    return new ThreadVerifier(this, this.nextJob++)
  }

  /** Terminates the thread; pending finish() calls are rejected. */
  async close(): Promise<void> {
    const worker = this.worker
    this.worker = null
    this.fail(new VerifierError('the verifier thread was closed'))
    await worker?.terminate()
  }

  /** @internal */
  send(msg: VerifierRequest): void {
    if (msg.op === 'begin') this.errors.delete(msg.job)
    // A job's end needs no thread: a closed (or never started) one holds nothing of it.
    if (msg.op === 'end') this.worker?.postMessage(msg)
    else this.start().postMessage(msg)
  }

  /** @internal The answer to a finish of `job`. */
  finish(job: number, signal?: AbortSignal): Promise<VerifiedBlob> {
    const failed = this.errors.get(job) ?? this.failure
    if (failed !== null && failed !== undefined) return Promise.reject(failed)
    const worker = this.start()
    return new Promise<VerifiedBlob>((resolve, reject) => {
      const settle = (): void => {
        signal?.removeEventListener('abort', onAbort)
        if (this.pending.size === 0) worker.unref()
      }
      const onAbort = (): void => {
        this.pending.delete(job)
        settle()
        reject(signal?.reason as Error)
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      this.pending.set(job, {
        resolve: (v) => {
          settle()
          resolve(v)
        },
        reject: (e) => {
          settle()
          reject(e)
        },
      })
      worker.ref() // an answer is awaited: the process must not exit before it
      worker.postMessage({ op: 'finish', job } satisfies VerifierRequest)
    })
  }

  private start(): Worker {
    if (this.worker !== null) return this.worker
    // It reads into its chunkers' buffers and hashes in WebAssembly and native code: a small young
    // generation is plenty.
    const worker = new Worker(siblingModuleUrl('verify-worker', import.meta.url), {
      resourceLimits: { maxYoungGenerationSizeMb: 4 },
    })
    worker.on('message', (msg: VerifierReply) => {
      const waiting = this.pending.get(msg.job)
      this.pending.delete(msg.job)
      if (msg.op === 'error') {
        const err = new VerifierError(`verifying the blob failed: ${msg.message}`)
        if (waiting !== undefined) waiting.reject(err)
        else this.errors.set(msg.job, err)
      } else {
        waiting?.resolve({ etag: msg.etag, chunks: unpack(msg) })
      }
    })
    worker.on('error', (err) => this.fail(new VerifierError(`the verifier thread failed: ${err.message}`)))
    worker.unref()
    this.worker = worker
    this.failure = null
    return worker
  }

  private fail(err: Error): void {
    this.failure = err
    const waiting = [...this.pending.values()]
    this.pending.clear()
    for (const p of waiting) p.reject(err)
  }
}

/** One job of a VerifierThread: one blob at a time, reusable for the next. */
class ThreadVerifier implements Verifier {
  private readonly thread: VerifierThread
  private readonly job: number
  private begun = false

  constructor(thread: VerifierThread, job: number) {
    this.thread = thread
    this.job = job
  }

  begin(path: string, kind: BlobKind, size: number, jobs: { etag: boolean } = { etag: true }): void {
    this.begun = true
    this.thread.send({ op: 'begin', job: this.job, path, kind, size, etag: jobs.etag, chunks: true })
  }

  /** The first `upTo` bytes of the file are written: hash them. */
  advance(upTo: number): void {
    if (this.begun) this.thread.send({ op: 'advance', job: this.job, upTo })
  }

  finish(signal?: AbortSignal): Promise<VerifiedBlob> {
    if (!this.begun) return Promise.reject(new VerifierError('finish() before begin()'))
    return this.thread.finish(this.job, signal)
  }

  /** Frees the thread's state for this handle (the thread itself stays until VerifierThread.close()). */
  async close(): Promise<void> {
    if (this.begun) this.thread.send({ op: 'end', job: this.job })
    this.begun = false
  }
}

function unpack(msg: Extract<VerifierReply, { op: 'done' }>): ChunkInfo[] {
  return msg.offsets.map((offset, i) => ({
    offset,
    length: msg.lengths[i],
    hash: msg.hashes.slice(i * 32, i * 32 + 32),
  }))
}
