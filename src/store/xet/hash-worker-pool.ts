import { Worker } from 'node:worker_threads'
import { XetWorkerError } from './errors.ts'
import type { HashJob, HashWorkerData, HashWorkerReply } from './hash-worker-protocol.ts'
import { siblingModuleUrl } from '../module-url.ts'

export interface HashWorkerPoolInit {
  /** Number of worker threads, >= 1. */
  workers: number
  /** Shared memory that jobs point into. */
  slabs: SharedArrayBuffer[]
  /** The worker script; default hash-worker.ts (tests substitute a failing one). */
  workerUrl?: URL
}

interface PendingJob {
  bytes: number
  resolve: (hashes: Uint8Array) => void
  reject: (err: Error) => void
}

interface WorkerSlot {
  worker: Worker
  ready: boolean
  jobs: Map<number, PendingJob>
  pendingBytes: number
}

/**
 * Worker threads that hash chunks of shared slabs. A worker is unref'd while it has nothing to
 * do, so a forgotten pool never keeps the process alive; any worker failure fails the whole pool
 * and rejects every pending job.
 */
export class HashWorkerPool {
  readonly #slots: WorkerSlot[]
  readonly #started = deferred()
  #nextId = 0
  #failure: Error | undefined
  #closing: Promise<void> | undefined

  private constructor(init: HashWorkerPoolInit) {
    const url = init.workerUrl ?? siblingModuleUrl('hash-worker', import.meta.url)
    const workerData: HashWorkerData = { slabs: init.slabs }
    this.#slots = Array.from({ length: init.workers }, () => ({
      worker: new Worker(url, { workerData }),
      ready: false,
      jobs: new Map(),
      pendingBytes: 0,
    }))
    for (const slot of this.#slots) this.#watch(slot)
    this.#started.promise.catch(() => {}) // start() reports it
  }

  /** Starts the workers and waits until each has loaded its hasher. */
  static async start(init: HashWorkerPoolInit): Promise<HashWorkerPool> {
    const pool = new HashWorkerPool(init)
    try {
      await pool.#started.promise
    } catch (err) {
      await pool.close()
      throw err
    }
    return pool
  }

  /** Hashes the chunks at `spans` of slab `slab` on the least busy worker: 32 bytes per chunk. */
  hash(slab: number, spans: Uint32Array, bytes: number): Promise<Uint8Array> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure)
    if (this.#closing !== undefined)
      return Promise.reject(new XetWorkerError('the hash worker pool is closed'))
    let slot = this.#slots[0]
    for (const other of this.#slots) if (other.pendingBytes < slot.pendingBytes) slot = other
    const id = this.#nextId++
    return new Promise((resolve, reject) => {
      slot.jobs.set(id, { bytes, resolve, reject })
      slot.pendingBytes += bytes
      slot.worker.ref()
      slot.worker.postMessage({ id, slab, spans } satisfies HashJob)
    })
  }

  /** True if some worker has nothing queued. */
  get hasIdleWorker(): boolean {
    return this.#slots.some((slot) => slot.jobs.size === 0)
  }

  /** Terminates the workers; pending jobs are rejected. Harmless twice. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      const closed = new XetWorkerError('the hash worker pool was closed')
      this.#started.reject(closed)
      this.#rejectAll(closed)
      await Promise.all(this.#slots.map((slot) => slot.worker.terminate()))
    })()
    return this.#closing
  }

  #watch(slot: WorkerSlot): void {
    const { worker } = slot
    worker.on('message', (reply: HashWorkerReply) => {
      if (reply.type === 'ready') {
        slot.ready = true
        worker.unref()
        if (this.#slots.every((s) => s.ready)) this.#started.resolve()
        return
      }
      const job = slot.jobs.get(reply.id)
      if (job === undefined) return
      slot.jobs.delete(reply.id)
      slot.pendingBytes -= job.bytes
      if (slot.jobs.size === 0) worker.unref()
      if (reply.type === 'hashed') return job.resolve(reply.hashes)
      const err = new XetWorkerError(`hash worker failed: ${reply.message}`)
      job.reject(err)
      this.#fail(err)
    })
    worker.on('error', (err) =>
      this.#fail(new XetWorkerError(`hash worker failed: ${err.message}`, { cause: err })),
    )
    worker.on('messageerror', (err) =>
      this.#fail(
        new XetWorkerError(`hash worker sent an unreadable message: ${err.message}`, { cause: err }),
      ),
    )
    worker.on('exit', (code) => this.#fail(new XetWorkerError(`hash worker exited with code ${code}`)))
  }

  #fail(err: Error): void {
    if (this.#failure !== undefined || this.#closing !== undefined) return
    this.#failure = err
    this.#started.reject(err)
    this.#rejectAll(err)
    for (const slot of this.#slots) void slot.worker.terminate()
  }

  #rejectAll(err: Error): void {
    for (const slot of this.#slots) {
      for (const job of slot.jobs.values()) job.reject(err)
      slot.jobs.clear()
      slot.pendingBytes = 0
      slot.worker.unref()
    }
  }
}

interface Deferred {
  promise: Promise<void>
  resolve: () => void
  reject: (err: Error) => void
}

function deferred(): Deferred {
  let resolve!: () => void
  let reject!: (err: Error) => void
  const promise = new Promise<void>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}
