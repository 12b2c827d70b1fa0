/** Worker thread: hashes chunks that the main thread has copied into shared slabs. */
import { Buffer } from 'node:buffer'
import { parentPort, workerData } from 'node:worker_threads'
import { DATA_KEY, HASH_BYTES } from './constants.ts'
import type { HashJob, HashWorkerData, HashWorkerReply } from './hash-worker-protocol.ts'
import { createKeyedBlake3 } from './keyed-blake3.ts'

const port = parentPort
if (port === null) throw new Error('hash-worker.ts must run as a worker thread')

const slabs = (workerData as HashWorkerData).slabs.map((buffer) => Buffer.from(buffer))
const hasher = await createKeyedBlake3(DATA_KEY)

function hashJob(job: HashJob): Uint8Array {
  const slab = slabs[job.slab]
  if (slab === undefined) throw new RangeError(`no slab ${job.slab}`)
  const hashes = new Uint8Array((job.spans.length / 2) * HASH_BYTES)
  for (let i = 0; i < job.spans.length; i += 2) {
    const offset = job.spans[i]
    const end = offset + job.spans[i + 1]
    if (end > slab.length) throw new RangeError(`chunk [${offset}, ${end}) is outside slab ${job.slab}`)
    hashes.set(hasher.digest(slab.subarray(offset, end)), (i / 2) * HASH_BYTES)
  }
  return hashes
}

port.on('message', (job: HashJob) => {
  let reply: HashWorkerReply
  try {
    reply = { type: 'hashed', id: job.id, hashes: hashJob(job) }
  } catch (err) {
    reply = { type: 'failed', id: job.id, message: err instanceof Error ? err.message : String(err) }
  }
  port.postMessage(reply, reply.type === 'hashed' ? [reply.hashes.buffer as ArrayBuffer] : [])
})
port.postMessage({ type: 'ready' } satisfies HashWorkerReply)
