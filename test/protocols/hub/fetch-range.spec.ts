import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { open, readFile } from 'node:fs/promises'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { fetchRange } from '../../../src/protocols/hub/fetch-range.ts'
import { useTmpDir } from '../../helpers/tmp-dir.ts'

const CONTENT = randomBytes(3 * 1024 * 1024 + 17)

type Behaviour = (req: IncomingMessage, res: ServerResponse, start: number, end: number) => void

/** Sends bytes [start, end] in 16 KiB writes, then ends (or stops after `cut` bytes, or stalls there). */
function send(
  res: ServerResponse,
  start: number,
  end: number,
  opts: { cut?: number; stall?: boolean } = {},
): void {
  const stop = opts.cut === undefined ? end + 1 : Math.min(end + 1, start + opts.cut)
  for (let at = start; at < stop; at += 16 * 1024)
    res.write(CONTENT.subarray(at, Math.min(stop, at + 16 * 1024)))
  if (stop === end + 1) res.end()
  else if (opts.stall !== true) res.socket?.destroy()
}

describe('fetchRange (Hub client)', function () {
  this.timeout(20_000)
  const tmp = useTmpDir()
  let server: Server
  let url = ''
  let behaviour: Behaviour
  let requests = 0

  before(async () => {
    server = createServer((req, res) => {
      requests++
      const m = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '')
      if (m === null) throw new Error('no range')
      behaviour(req, res, Number(m[1]), Number(m[2]))
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/file`
  })
  after(() => {
    server.closeAllConnections()
    server.close()
  })
  beforeEach(() => (requests = 0))

  async function fetchInto(start: number, end: number, extra: { stallMs?: number } = {}): Promise<Buffer> {
    const path = join(tmp(), 'blob')
    const file = await open(path, 'w+')
    let written = 0
    try {
      await fetchRange({
        config: { endpoint: url, token: null, offline: false },
        url,
        start,
        end,
        written: 0,
        file,
        what: 'test/file',
        onWritten: (n) => (written += n),
        ...extra,
      })
    } finally {
      await file.close()
    }
    assert.equal(written, end - start)
    return (await readFile(path)).subarray(start, end)
  }

  it('writes a range that arrives in many pieces at its offsets', async () => {
    behaviour = (_req, res, start, end) => {
      res.writeHead(206, { 'content-range': `bytes ${start}-${end}/${CONTENT.length}` })
      send(res, start, end)
    }
    assert.ok((await fetchInto(1000, 2_500_000)).equals(CONTENT.subarray(1000, 2_500_000)))
    assert.equal(requests, 1)
  })

  it('takes only the range from a server that ignores Range and sends the whole file', async () => {
    behaviour = (_req, res) => {
      res.writeHead(200, { 'content-length': CONTENT.length })
      send(res, 0, CONTENT.length - 1)
    }
    assert.ok((await fetchInto(0, 1_000_000)).equals(CONTENT.subarray(0, 1_000_000)))
  })

  it('resumes from the last byte written after a dropped connection or a stalled body', async () => {
    for (const stall of [false, true]) {
      let first = true
      behaviour = (_req, res, start, end) => {
        res.writeHead(206, { 'content-range': `bytes ${start}-${end}/${CONTENT.length}` })
        send(res, start, end, first ? { cut: 1_500_000, stall } : {})
        first = false
      }
      const got = await fetchInto(0, CONTENT.length, { stallMs: 300 })
      assert.ok(got.equals(CONTENT), stall ? 'stalled' : 'dropped')
      assert.equal(requests, 2)
      requests = 0
    }
  })

  it('reports a failed write (a full disk) at once, as itself, also when it is the last one', async () => {
    behaviour = (_req, res, start, end) => {
      res.writeHead(206, { 'content-range': `bytes ${start}-${end}/${CONTENT.length}` })
      send(res, start, end)
    }
    for (const end of [100_000, 2_500_000]) {
      // 100 kB: one write, after the body has ended; 2.5 MB: the first of several, mid-body.
      const file = await open(join(tmp(), 'blob'), 'w+')
      const full = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' })
      const failing = new Proxy(file, {
        get: (t, k) => (k === 'writev' ? () => Promise.reject(full) : Reflect.get(t, k, t)),
      })
      try {
        await assert.rejects(
          fetchRange({
            config: { endpoint: url, token: null, offline: false },
            url,
            start: 0,
            end,
            written: 0,
            file: failing,
            what: 'test/file',
            onWritten: () => {},
          }),
          { code: 'ENOSPC' },
          `${end} bytes`,
        )
      } finally {
        await file.close()
      }
      assert.equal(requests, 1, `${end} bytes: no retry of a local failure`)
      requests = 0
    }
  })
})
