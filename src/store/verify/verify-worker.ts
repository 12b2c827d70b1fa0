// The blob verifier's worker thread: reads blob files as they grow, hashes each the way its etag was
// computed and chunks it (Xet CDC + chunk hashes), so that the thread doing network I/O does none of it.
// Several jobs (blobs) may be under way at once; messages are handled in order.
import { closeSync, openSync, readSync } from 'node:fs'
import { parentPort } from 'node:worker_threads'
import { createEtagHasher, type EtagHasher } from '../blob-etag.ts'
import { XetChunker, type ChunkInfo } from '../xet/index.ts'
import type { VerifierReply, VerifierRequest } from './verifier-protocol.ts'

/** Bytes read back at a time when only hashing (chunking reads into the chunker's own 1 MiB input). */
const READ_SIZE = 4 * 1024 * 1024
const port = parentPort
if (port === null) throw new Error('verify-worker.ts must run as a worker thread')

interface Job {
  chunker: XetChunker
  fd: number | null
  hasher: EtagHasher | null
  doChunks: boolean
  cursor: number
  chunks: ChunkInfo[]
}

const jobs = new Map<number, Job>()
/** Chunkers of ended jobs, for the next ones. */
const spareChunkers: XetChunker[] = []
let buf: Buffer | null = null
let queue: Promise<void> = Promise.resolve()

const reply = (msg: VerifierReply, transfer: ArrayBuffer[] = []): void => port.postMessage(msg, transfer)

function closeFile(job: Job): void {
  const fd = job.fd
  job.fd = null
  if (fd !== null) closeSync(fd)
}

async function handle(msg: VerifierRequest): Promise<void> {
  let job = jobs.get(msg.job)
  if (msg.op === 'end') {
    if (job === undefined) return
    closeFile(job)
    jobs.delete(msg.job)
    spareChunkers.push(job.chunker)
    return
  }
  if (msg.op === 'begin') {
    if (job === undefined) {
      const chunker = spareChunkers.pop() ?? (await XetChunker.create({ workers: 0 }))
      job = { chunker, fd: null, hasher: null, doChunks: true, cursor: 0, chunks: [] }
      jobs.set(msg.job, job)
    }
    closeFile(job)
    job.hasher = msg.etag ? createEtagHasher(msg.kind, msg.size) : null
    job.doChunks = msg.chunks
    job.chunker.reset()
    job.cursor = 0
    job.chunks = []
    job.fd = openSync(msg.path, 'r')
    return
  }
  if (job === undefined || job.fd === null) {
    // Finished, or failed (its file closed then, and the failure reported): the handle rejects finish().
    if (msg.op === 'finish')
      reply({ op: 'error', job: msg.job, name: 'VerifierError', message: 'no blob in progress' })
    return
  }
  if (msg.op === 'advance') await advance(job, msg.upTo)
  else await finish(msg.job, job)
}

async function advance(job: Job, upTo: number): Promise<void> {
  // Chunking, the bytes are read straight into the chunker's scan buffer.
  const into =
    job.doChunks && job.chunker.input !== null ? job.chunker.input : (buf ??= Buffer.allocUnsafe(READ_SIZE))
  while (job.cursor < upTo) {
    const n = readSync(job.fd!, into, 0, Math.min(into.length, upTo - job.cursor), job.cursor)
    if (n === 0) throw new Error(`the file ended at ${job.cursor} bytes, before ${upTo}`)
    const data = into.subarray(0, n)
    job.hasher?.update(data)
    if (job.doChunks) for (const c of await job.chunker.push(data)) job.chunks.push(c)
    job.cursor += n
  }
}

async function finish(id: number, job: Job): Promise<void> {
  const { chunks } = job
  if (job.doChunks) for (const c of await job.chunker.finish()) chunks.push(c)
  const hashes = new Uint8Array(chunks.length * 32)
  chunks.forEach((c, i) => hashes.set(c.hash, i * 32))
  closeFile(job)
  job.chunks = []
  reply(
    {
      op: 'done',
      job: id,
      etag: job.hasher?.digestHex() ?? '',
      offsets: chunks.map((c) => c.offset),
      lengths: chunks.map((c) => c.length),
      hashes,
    },
    [hashes.buffer as ArrayBuffer],
  )
}

port.on('message', (msg: VerifierRequest) => {
  queue = queue.then(
    () =>
      handle(msg).catch((err: unknown) => {
        const job = jobs.get(msg.job)
        if (job !== undefined) closeFile(job) // no more work on it until its next begin
        reply({ op: 'error', job: msg.job, name: (err as Error).name, message: (err as Error).message })
      }),
    () => {},
  )
})
