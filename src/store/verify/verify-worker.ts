// The blob verifier's worker thread: reads a blob file as it grows, hashes it the way its etag was
// computed and chunks it (Xet CDC + chunk hashes), so that the thread doing network I/O does none of it.
import { closeSync, openSync, readSync } from 'node:fs'
import { parentPort } from 'node:worker_threads'
import { createEtagHasher, type EtagHasher } from '../blob-etag.ts'
import { XetChunker, type ChunkInfo } from '../xet/index.ts'
import type { VerifierReply, VerifierRequest } from './verifier-protocol.ts'

/** Bytes read back and hashed at a time (the download tells the verifier of new bytes in 8 MiB steps). */
const READ_SIZE = 4 * 1024 * 1024
const port = parentPort
if (port === null) throw new Error('verify-worker.ts must run as a worker thread')

const chunker = await XetChunker.create({ workers: 0 })
const buf = Buffer.allocUnsafe(READ_SIZE)
let fd: number | null = null
let hasher: EtagHasher | null = null
let doChunks = true
let cursor = 0
let chunks: ChunkInfo[] = []
let failed = false
let queue: Promise<void> = Promise.resolve()

const reply = (msg: VerifierReply, transfer: ArrayBuffer[] = []): void => port.postMessage(msg, transfer)

async function handle(msg: VerifierRequest): Promise<void> {
  if (msg.op === 'begin') {
    if (fd !== null) closeSync(fd)
    fd = openSync(msg.path, 'r')
    hasher = msg.etag ? createEtagHasher(msg.kind, msg.size) : null
    doChunks = msg.chunks
    chunker.reset()
    cursor = 0
    chunks = []
    failed = false
    return
  }
  if (failed || fd === null) {
    if (msg.op === 'finish') reply({ op: 'error', name: 'VerifierError', message: 'no blob in progress' })
    return
  }
  if (msg.op === 'advance') {
    // Chunking, the bytes are read straight into the chunker's scan buffer.
    const into = doChunks && chunker.input !== null ? chunker.input : buf
    while (cursor < msg.upTo) {
      const n = readSync(fd, into, 0, Math.min(into.length, msg.upTo - cursor), cursor)
      if (n === 0) throw new Error(`the file ended at ${cursor} bytes, before ${msg.upTo}`)
      const data = into.subarray(0, n)
      hasher?.update(data)
      if (doChunks) for (const c of await chunker.push(data)) chunks.push(c)
      cursor += n
    }
    return
  }
  if (doChunks) for (const c of await chunker.finish()) chunks.push(c)
  const hashes = new Uint8Array(chunks.length * 32)
  chunks.forEach((c, i) => hashes.set(c.hash, i * 32))
  closeSync(fd)
  fd = null
  reply(
    {
      op: 'done',
      etag: hasher?.digestHex() ?? '',
      offsets: chunks.map((c) => c.offset),
      lengths: chunks.map((c) => c.length),
      hashes,
    },
    [hashes.buffer as ArrayBuffer],
  )
}

port.on('message', (msg: VerifierRequest) => {
  queue = queue.then(
    () => handle(msg),
    () => {},
  )
  queue.catch((err: unknown) => {
    failed = true
    reply({ op: 'error', name: (err as Error).name, message: (err as Error).message })
  })
})
