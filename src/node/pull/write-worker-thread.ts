/**
 * Worker thread of WriteWorker: checks the chunks of a write buffer against their hashes, then writes it.
 * The buffer is moved here and back (transferred, never copied).
 */
import { writeSync } from 'node:fs'
import { parentPort } from 'node:worker_threads'
import { createKeyedBlake3 } from '../../store/xet/keyed-blake3.ts'
import { DATA_KEY, HASH_BYTES } from '../../store/xet/constants.ts'
import { sameHash } from '../../store/xet/same-hash.ts'
import type { WriteJob, WriteReply } from './write-worker-protocol.ts'

const port = parentPort
if (port === null) throw new Error('write-worker-thread.ts must run as a worker thread')

const hasher = await createKeyedBlake3(DATA_KEY)

function run(job: WriteJob): WriteReply {
  const bytes = new Uint8Array(job.buffer, 0, job.length)
  const bad: number[] = []
  const got: Uint8Array[] = []
  for (let i = 0; i < job.spans.length / 2; i++) {
    const start = job.spans[2 * i]
    const hash = hasher.digest(bytes.subarray(start, start + job.spans[2 * i + 1]))
    if (!sameHash(hash, job.expected.subarray(i * HASH_BYTES, (i + 1) * HASH_BYTES))) {
      bad.push(i)
      got.push(hash)
    }
  }
  try {
    for (let off = 0; off < job.length;)
      off += writeSync(job.fd, bytes, off, job.length - off, job.position + off)
  } catch (err) {
    const { message, code } = err as NodeJS.ErrnoException
    return { id: job.id, buffer: job.buffer, error: message, code }
  }
  const all = new Uint8Array(got.length * HASH_BYTES)
  got.forEach((hash, k) => all.set(hash, k * HASH_BYTES))
  return { id: job.id, buffer: job.buffer, bad, got: all }
}

port.on('message', (job: WriteJob) => {
  const reply = run(job)
  port.postMessage(reply, [reply.buffer])
})
port.postMessage('ready')
