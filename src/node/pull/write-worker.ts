import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import { siblingModuleUrl } from '../../store/module-url.ts'
import { HASH_BYTES } from '../../store/xet/constants.ts'
import type { WriteJob, WriteReply } from './write-worker-protocol.ts'

export interface CheckedWrite {
  /** The buffer, back from the worker. */
  buffer: Uint8Array
  /** Indices (into the spans) of the chunks that do not match their hash, and the hash each has. */
  bad: { index: number; got: Uint8Array }[]
}

interface Job {
  resolve: (result: CheckedWrite) => void
  reject: (err: Error) => void
}

/** The worker failed or exited: the buffers it held are gone, and so are their bytes. */
export class WriteWorkerError extends Error {
  override name = 'WriteWorkerError'
}

/**
 * A worker thread that checks the chunks of a blob's write buffer against their hashes and writes the buffer
 * to the file: the hashing (~1 CPU-s per GiB) leaves the event loop that receives the chunks, with no copy
 * and no extra hand-off (it takes the place of the thread pool's write). The buffer is moved there and back.
 * Measured, 1 GiB from one peer on the 2-core VM, 7 pairs alternated with checking on arrival: the event
 * loop used 1.2-1.4 CPU-s less; the pull was faster in 5 pairs (median of the first 5: 7.03 against 7.27 s).
 * Hashing each chunk on a worker before it is handed out did not pay (see chunks-protocol.ts).
 */
export class WriteWorker {
  private readonly worker: Worker
  private readonly jobs = new Map<number, Job>()
  private nextId = 0
  private failure: Error | null = null
  private readonly ready: Promise<boolean>

  constructor(workerUrl: URL = siblingModuleUrl('write-worker-thread', import.meta.url)) {
    this.worker = new Worker(workerUrl)
    // Only its jobs keep the process alive (and the pulls waiting on them do anyway).
    this.worker.unref()
    this.ready = new Promise((resolve) => {
      this.worker.once('message', () => resolve(this.failure === null))
      this.worker.once('exit', () => resolve(false))
    })
    this.worker.on('message', (reply: WriteReply | 'ready') => {
      if (reply !== 'ready') this.settle(reply)
    })
    this.worker.on('error', (err) => this.fail(new WriteWorkerError(`write worker failed: ${err.message}`)))
    this.worker.on('exit', (code) => this.fail(new WriteWorkerError(`write worker exited with code ${code}`)))
  }

  /** True once the worker has started, false if it could not. */
  started(): Promise<boolean> {
    return this.ready
  }

  get running(): boolean {
    return this.failure === null
  }

  /**
   * Checks the chunks at `spans` ([offset, length] pairs in `buffer`) against `expected` (32 bytes each), then
   * writes `length` bytes of `buffer` at `position` of `fd`, which must stay open until this settles. The
   * buffer must be a whole ArrayBuffer of its own: it is moved to the worker, and comes back in the result. A
   * failed write rejects with the system error's code (ENOSPC...); a failed worker with WriteWorkerError,
   * the buffer then lost.
   */
  write(
    fd: number,
    buffer: Uint8Array,
    length: number,
    position: number,
    spans: Uint32Array,
    expected: Uint8Array,
  ): Promise<CheckedWrite> {
    if (this.failure !== null) return Promise.reject(this.failure)
    const id = this.nextId++
    const job: WriteJob = { id, fd, buffer: buffer.buffer as ArrayBuffer, length, position, spans, expected }
    return new Promise((resolve, reject) => {
      if (this.jobs.size === 0) this.worker.ref()
      this.jobs.set(id, { resolve, reject })
      this.worker.postMessage(job, [job.buffer])
    })
  }

  /** Stops the worker; pending writes reject. */
  async close(): Promise<void> {
    this.fail(new WriteWorkerError('the write worker was closed'))
    await this.worker.terminate()
  }

  private settle(reply: WriteReply): void {
    const job = this.jobs.get(reply.id)
    if (job === undefined) return
    this.jobs.delete(reply.id)
    if (this.jobs.size === 0) this.worker.unref()
    if ('error' in reply) {
      const err = new Error(reply.error) as NodeJS.ErrnoException
      if (reply.code !== undefined) err.code = reply.code
      job.reject(err)
      return
    }
    const bad = reply.bad.map((index, k) => ({
      index,
      got: reply.got.slice(k * HASH_BYTES, (k + 1) * HASH_BYTES),
    }))
    job.resolve({ buffer: new Uint8Array(reply.buffer), bad })
  }

  private fail(err: Error): void {
    if (this.failure !== null) return
    this.failure = err
    for (const job of this.jobs.values()) job.reject(err)
    this.jobs.clear()
    this.worker.unref()
  }
}

let shared: WriteWorker | null | undefined

/**
 * The process's write worker, started on first use; null on a machine with one core, where a second thread
 * only adds its overhead to the same core.
 */
export function sharedWriteWorker(): WriteWorker | null {
  shared ??= availableParallelism() > 1 ? new WriteWorker() : null
  return shared
}
