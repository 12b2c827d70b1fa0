/**
 * A plain static file server on 127.0.0.1, the curl baseline's other end, in a process of its own so that
 * its CPU and memory can be read from /proc:
 *   node scripts/bench/static-server-child.ts --root DIR
 * Prints `static-server listening on http://127.0.0.1:PORT`; GET /<path> answers DIR/<path>; runs until
 * SIGTERM.
 */
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join, normalize, sep } from 'node:path'
import { parseArgs } from 'node:util'

const READ_BYTES = 1024 * 1024

const { values } = parseArgs({ options: { root: { type: 'string' } }, strict: true })
if (values.root === undefined) {
  console.error('usage: static-server-child.ts --root DIR')
  process.exit(2)
}
const root = normalize(values.root)

const server = createServer((req, res) => {
  const path = normalize(join(root, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname)))
  if (!path.startsWith(root + sep) || req.method !== 'GET') {
    res.writeHead(404).end()
    return
  }
  stat(path).then(
    (st) => {
      res.writeHead(200, { 'content-length': st.size, 'content-type': 'application/octet-stream' })
      createReadStream(path, { highWaterMark: READ_BYTES }).pipe(res)
    },
    () => res.writeHead(404).end(),
  )
})
server.listen(0, '127.0.0.1', () => {
  console.log(`static-server listening on http://127.0.0.1:${(server.address() as AddressInfo).port}`)
})
process.once('SIGTERM', () => {
  server.closeAllConnections()
  server.close(() => process.exit(0))
})
