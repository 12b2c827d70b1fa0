/**
 * The raw-stream baseline of the peer-pull benchmark: files sent over one libp2p stream with the node's own
 * transport stack (TCP + Noise + Yamux, options from src/node/libp2p-node.ts), no chunking, no hashing.
 *   node scripts/bench/raw-libp2p-child.ts --role sender --files A,B
 *     listens on 127.0.0.1, prints `raw-libp2p listening <multiaddr>`; every stream of the bench protocol
 *     gets the files' bytes (read in 1 MiB blocks, `send()` + `onDrain()`), then is closed. A file given
 *     as `PATH@OFFSET+LENGTH` sends only those bytes of it (a swarm's sender serving its share).
 *   node scripts/bench/raw-libp2p-child.ts --role receiver --dial MULTIADDR[,MULTIADDR...]
 *     dials each sender, prints `raw-libp2p ready`; for each stdin line `go FILE[,FILE...]` (one file per
 *     sender) opens a stream to every sender at once, writes what each sends to its file in arrival order,
 *     prints `done <bytes>` (all senders together).
 * Both run until SIGTERM (the receiver also until stdin ends). The parent bounds every wait.
 */
import { open, type FileHandle } from 'node:fs/promises'
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import type { Stream } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { createLibp2p, type Libp2p } from 'libp2p'
import { transportStack } from '../../src/node/libp2p-node.ts'

const PROTOCOL = '/hffs-bench/raw/1.0.0'
const BLOCK_BYTES = 1024 * 1024

const { values } = parseArgs({
  options: { role: { type: 'string' }, files: { type: 'string' }, dial: { type: 'string' } },
  strict: true,
})

async function createNode(listen: string[]): Promise<Libp2p> {
  return createLibp2p({ addresses: { listen }, ...transportStack() })
}

async function runSender(files: string[]): Promise<Libp2p> {
  const node = await createNode(['/ip4/127.0.0.1/tcp/0'])
  await node.handle(PROTOCOL, async (stream) => {
    try {
      for (const path of files) await sendFile(stream, path)
      await stream.close()
    } catch (err) {
      stream.abort(err as Error)
    }
  })
  console.log(`raw-libp2p listening ${node.getMultiaddrs()[0].toString()}`)
  return node
}

/** `PATH`, or `PATH@OFFSET+LENGTH` for a range of it. */
function parseFileSpec(spec: string): { path: string; offset: number; length: number } {
  const m = /^(.+)@(\d+)\+(\d+)$/.exec(spec)
  return m === null
    ? { path: spec, offset: 0, length: Infinity }
    : { path: m[1], offset: Number(m[2]), length: Number(m[3]) }
}

async function sendFile(stream: Stream, spec: string): Promise<void> {
  const { path, offset, length } = parseFileSpec(spec)
  const fh = await open(path, 'r')
  try {
    let sent = 0
    while (sent < length) {
      // A fresh buffer per block: the stream keeps a reference until the bytes are on the wire.
      const block = Buffer.allocUnsafe(BLOCK_BYTES)
      const want = Math.min(BLOCK_BYTES, length - sent)
      const { bytesRead } = await fh.read(block, 0, want, offset + sent)
      if (bytesRead === 0) return
      sent += bytesRead
      if (!stream.send(block.subarray(0, bytesRead))) await stream.onDrain()
    }
  } finally {
    await fh.close()
  }
}

async function runReceiver(targets: string[]): Promise<Libp2p> {
  const node = await createNode([])
  await Promise.all(targets.map((t) => node.dial(multiaddr(t))))
  console.log('raw-libp2p ready')
  const lines = createInterface({ input: process.stdin })
  lines.on('line', (line) => {
    const m = /^go (.+)$/.exec(line)
    if (m === null) return
    const paths = m[1].split(',')
    if (paths.length !== targets.length) {
      console.log(`failed want ${targets.length} files, one per sender`)
      return
    }
    Promise.all(targets.map((t, i) => receiveInto(node, t, paths[i]))).then(
      (counts) => console.log(`done ${counts.reduce((a, b) => a + b, 0)}`),
      (err: Error) => console.log(`failed ${err.message}`),
    )
  })
  lines.once('close', () => void stopAndExit(node))
  return node
}

async function receiveInto(node: Libp2p, target: string, path: string): Promise<number> {
  const fh = await open(path, 'w')
  try {
    const stream = await node.dialProtocol(multiaddr(target), PROTOCOL)
    return await drainInto(stream, fh)
  } finally {
    await fh.close()
  }
}

/**
 * Appends every message of the stream to the file, in order; resolves with the byte count at its end.
 * Never pauses the stream: Yamux keeps granting its window while paused and the read buffer overflows.
 */
function drainInto(stream: Stream, fh: FileHandle): Promise<number> {
  return new Promise((resolve, reject) => {
    let written = 0
    let writes = Promise.resolve()
    stream.addEventListener('message', (evt) => {
      const bufs = evt.data instanceof Uint8Array ? [evt.data] : [...evt.data]
      const bytes = evt.data.byteLength
      writes = writes.then(async () => {
        await fh.writev(bufs)
        written += bytes
      })
      writes.catch((err: unknown) => stream.abort(err as Error))
    })
    stream.addEventListener('end', () => {
      writes.then(async () => {
        await stream.close()
        resolve(written)
      }, reject)
    })
    stream.addEventListener('close', (evt) => {
      if (evt.error !== undefined) reject(evt.error)
    })
  })
}

let node: Libp2p
if (values.role === 'sender' && values.files !== undefined) node = await runSender(values.files.split(','))
else if (values.role === 'receiver' && values.dial !== undefined)
  node = await runReceiver(values.dial.split(','))
else {
  console.error(
    'usage: raw-libp2p-child.ts --role sender --files A,B | --role receiver --dial MULTIADDR[,MULTIADDR...]',
  )
  process.exit(2)
}
process.once('SIGTERM', () => void stopAndExit(node))

async function stopAndExit(node: Libp2p): Promise<never> {
  await node.stop()
  process.exit(0)
}
