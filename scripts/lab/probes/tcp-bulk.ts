// A bulk TCP transfer, to measure a link.
//   serve --host IP [--port P] --bytes N: prints "ready PORT", sends N bytes to each client, until killed.
//   fetch --host IP --port P [--timeout-ms N]: prints JSON { bytes, ms } once the server closes;
//     exits 1 on error or timeout.
import { connect, createServer, type Socket } from 'node:net'
import { once } from 'node:events'
import { parseArgs } from 'node:util'

const BLOCK = Buffer.alloc(64 * 1024, 0x5a)

async function sendBytes(socket: Socket, total: number): Promise<void> {
  for (let left = total; left > 0; left -= BLOCK.length) {
    const piece = left >= BLOCK.length ? BLOCK : BLOCK.subarray(0, left)
    if (!socket.write(piece)) await once(socket, 'drain')
  }
  socket.end()
}

function fetchBytes(host: string, port: number, timeoutMs: number): Promise<{ bytes: number; ms: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now()
    let bytes = 0
    const socket = connect({ host, port })
    const timer = setTimeout(() => socket.destroy(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs)
    socket.on('data', (chunk: Buffer) => (bytes += chunk.length))
    socket.once('end', () => {
      clearTimeout(timer)
      resolve({ bytes, ms: Math.round(performance.now() - started) })
    })
    socket.once('error', (err) => {
      clearTimeout(timer)
      reject(err)
    })
  })
}

const { values, positionals } = parseArgs({
  options: {
    host: { type: 'string' },
    port: { type: 'string', default: '0' },
    bytes: { type: 'string', default: String(20 * 1024 * 1024) },
    'timeout-ms': { type: 'string', default: '30000' },
  },
  allowPositionals: true,
})
const [mode] = positionals
const host = values.host
if ((mode !== 'serve' && mode !== 'fetch') || host === undefined) {
  console.error('usage: node tcp-bulk.ts serve|fetch --host IP [options]')
  process.exit(2)
}

if (mode === 'serve') {
  const total = Number(values.bytes)
  const server = createServer((socket) => {
    socket.on('error', () => socket.destroy())
    void sendBytes(socket, total).catch(() => socket.destroy())
  })
  server.listen(Number(values.port), host)
  await once(server, 'listening')
  const address = server.address()
  console.log(`ready ${typeof address === 'object' && address ? address.port : values.port}`)
  const stop = (): void => void server.close()
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
} else {
  try {
    console.log(JSON.stringify(await fetchBytes(host, Number(values.port), Number(values['timeout-ms']))))
  } catch (err) {
    console.error(`fetch: ${(err as Error).message}`)
    process.exit(1)
  }
}
