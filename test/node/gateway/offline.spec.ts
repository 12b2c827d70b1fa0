import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { createServer, type Server, type Socket } from 'node:net'
import { join } from 'node:path'
import { downloadFileToCacheDir, snapshotDownload } from '@huggingface/hub'
import { startMockHub, type MockHub } from '../../../scripts/mock-hub/index.ts'
import { randomCommit, writeFakeRepo } from '../../helpers/fake-cache.ts'
import { writeMockBranch } from '../../helpers/mock-repos.ts'
import { useTmpDir } from '../../helpers/tmp-dir.ts'
import {
  rawRequest,
  startInProcessGateway,
  type InProcessGateway,
  type RawAnswer,
} from './gateway-fixture.ts'

const HF_HEAD = { 'accept-encoding': 'identity' }

describe('gateway: when the upstream cannot answer', function () {
  this.timeout(60_000)
  const tmp = useTmpDir()
  let hub: MockHub
  let gw: InProcessGateway | null = null
  const weights = randomBytes(2 * 1024 * 1024 + 1)
  const many = Object.fromEntries(
    Array.from({ length: 60 }, (_, i) => [`f/${String(i).padStart(2, '0')}.txt`, `file ${i}`]),
  )
  let debug: typeof console.debug

  before(() => {
    debug = console.debug
    console.debug = () => {} // @huggingface/hub logs every download
  })
  after(() => {
    console.debug = debug
  })
  beforeEach(async () => {
    const root = join(tmp(), 'mock')
    await writeMockBranch(root, 'models/org/m', 'main', {
      'model.safetensors': weights,
      'config.json': '{"a": 1}',
    })
    await writeMockBranch(root, 'models/org/many', 'main', many)
    hub = await startMockHub({ root })
  })
  afterEach(async () => {
    await gw?.stop()
    gw = null
    await hub.close()
  })

  it('serves what the node pulled, made-up listings included, and answers the rest 404/504 at once', async () => {
    gw = await startInProcessGateway(join(tmp(), 'gw'), hub.url)
    const first = await snapshotDownload({ repo: 'org/m', hubUrl: gw.url, cacheDir: join(tmp(), 'c1') })
    await downloadFileToCacheDir({
      repo: 'org/many',
      path: 'f/00.txt',
      hubUrl: gw.url,
      cacheDir: join(tmp(), 'c1'),
    })
    const commit = first.slice(first.lastIndexOf('/') + 1)
    await hub.close()

    const again = await snapshotDownload({ repo: 'org/m', hubUrl: gw.url, cacheDir: join(tmp(), 'c2') })
    assert.equal(again.slice(again.lastIndexOf('/') + 1), commit, 'main resolved from what the node knows')
    assert.ok(Buffer.from(await readFile(join(again, 'model.safetensors'))).equals(weights))

    const head = await rawRequest(`${gw.url}/org/m/resolve/main/config.json`, 'HEAD', HF_HEAD)
    assert.equal(head.status, 200)
    assert.equal(head.headers['x-repo-commit'], commit)

    const started = Date.now()
    const missing = await rawRequest(`${gw.url}/org/m/resolve/main/nope.bin`, 'HEAD', HF_HEAD)
    assert.equal(missing.status, 404, 'the index has the whole listing of this commit')
    assert.equal(missing.headers['x-error-code'], 'EntryNotFound')
    assert.equal(missing.headers['x-repo-commit'], commit)
    const noDir = await rawRequest(`${gw.url}/api/models/org/m/tree/main/nodir`, 'GET')
    assert.equal(noDir.status, 404, 'a folder missing from a complete listing')
    assert.equal(noDir.headers['x-error-code'], 'EntryNotFound')
    const unknown = await rawRequest(`${gw.url}/org/other/resolve/main/config.json`, 'HEAD', HF_HEAD)
    assert.equal(unknown.status, 504)
    assert.match(String(unknown.headers['x-error-message']), /cannot be reached/)
    const info = await rawRequest(`${gw.url}/api/models/org/other/revision/main`, 'GET')
    assert.equal(info.status, 504)
    assert.ok(Date.now() - started < 3000, 'no waiting on the upstream')

    // Listings of the 60-file repo of which only one file was pulled: pages of 50 with expand, as the Hub's.
    const page1 = await rawRequest(
      `${gw.url}/api/models/org/many/tree/main?recursive=true&expand=true`,
      'GET',
    )
    const entries1 = JSON.parse(page1.body.toString()) as { path: string; lastCommit?: { id: string } }[]
    assert.equal(entries1.length, 50)
    assert.equal(entries1[0].path, 'f')
    const next = /<([^>]+)>;\s*rel="next"/.exec(String(page1.headers.link))?.[1] as string
    assert.ok(next.startsWith(gw.url))
    const entries2 = JSON.parse((await rawRequest(next, 'GET')).body.toString()) as unknown[]
    assert.equal(entries2.length, 11)
    const pi = await rawRequest(
      `${gw.url}/api/models/org/many/paths-info/main`,
      'POST',
      { 'content-type': 'application/x-www-form-urlencoded' },
      'paths=f/59.txt&paths=nope',
    )
    assert.deepEqual(
      (JSON.parse(pi.body.toString()) as { path: string }[]).map((e) => e.path),
      ['f/59.txt'],
    )
    const repoInfo = JSON.parse(
      (await rawRequest(`${gw.url}/api/models/org/many/revision/main?expand=sha`, 'GET')).body.toString(),
    )
    assert.deepEqual(Object.keys(repoInfo).sort(), ['_id', 'id', 'sha'])
  })

  it('with HF_HUB_OFFLINE never asks the upstream', async () => {
    gw = await startInProcessGateway(join(tmp(), 'gw'), hub.url, { offline: true })
    hub.resetStats()
    const res = await rawRequest(`${gw.url}/org/m/resolve/main/config.json`, 'HEAD', HF_HEAD)
    assert.equal(res.status, 504)
    assert.equal(hub.stats().requests.total, 0)
  })

  it('gives up on an upstream that never answers within its timeout, and then stops waiting on it', async () => {
    const sockets = new Set<Socket>()
    const silent: Server = createServer((s) => void sockets.add(s))
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    const port = (silent.address() as { port: number }).port
    try {
      gw = await startInProcessGateway(join(tmp(), 'gw'), `http://127.0.0.1:${port}`, {
        upstreamTimeoutMs: 1000,
      })
      let t = Date.now()
      const first = await rawRequest(`${gw.url}/org/m/resolve/main/config.json`, 'HEAD', HF_HEAD)
      assert.equal(first.status, 504)
      assert.ok(Date.now() - t < 2500, `answered in ${Date.now() - t} ms`)
      t = Date.now()
      const second = await rawRequest(`${gw.url}/api/models/org/m/tree/main`, 'GET')
      assert.equal(second.status, 504)
      assert.ok(Date.now() - t < 500, 'the upstream is known to be down for a while')
    } finally {
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => silent.close(() => resolve()))
    }
  })

  /** The headers the Hub puts on every answer, and a JSON `{error}` body. */
  function assertHubError(res: RawAnswer, status: number, what: string): void {
    assert.equal(res.status, status, what)
    assert.match(String(res.headers['x-request-id']), /^Root=1-/, what)
    assert.match(String(res.headers['access-control-expose-headers']), /X-Error-Code/, what)
    assert.ok(String(res.headers['x-error-message']).length > 0, what)
    assert.match(String(res.headers['content-type']), /^application\/json/, what)
    if (res.body.byteLength > 0) assert.equal(typeof JSON.parse(res.body.toString()).error, 'string', what)
  }

  it('answers every route of a repo nobody knows with a clean 504 while the upstream hangs, never waiting on it', async () => {
    const sockets = new Set<Socket>()
    const silent: Server = createServer((s) => void sockets.add(s))
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    const port = (silent.address() as { port: number }).port
    try {
      gw = await startInProcessGateway(join(tmp(), 'gw'), `http://127.0.0.1:${port}`, {
        upstreamTimeoutMs: 1000,
      })
      for (const [prefix, api] of [
        ['', 'models'],
        ['/datasets', 'datasets'],
        ['/spaces', 'spaces'],
      ]) {
        const routes: [string, string, Record<string, string>, string?][] = [
          ['HEAD', `${prefix}/org/x/resolve/main/a.bin`, HF_HEAD],
          ['GET', `${prefix}/org/x/resolve/refs%2Fpr%2F3/a.bin`, { range: 'bytes=10-' }],
          ['GET', `${prefix}/x/resolve/main/a.bin`, {}],
          ['GET', `/api/${api}/org/x`, {}],
          ['GET', `/api/${api}/org/x/revision/main`, {}],
          ['GET', `/api/${api}/org/x/tree/main?recursive=true`, {}],
          ['GET', `/api/${api}/org/x/tree/main/sub`, {}],
          [
            'POST',
            `/api/${api}/org/x/paths-info/main`,
            { 'content-type': 'application/x-www-form-urlencoded' },
            'paths=a',
          ],
          [
            'POST',
            `/api/${api}/org/x/paths-info/main`,
            { 'content-type': 'application/json' },
            '{"paths":["a"]}',
          ],
        ]
        for (const [method, path, headers, body] of routes) {
          const t = Date.now()
          const res = await rawRequest(`${gw.url}${path}`, method, headers, body)
          assertHubError(res, 504, `${method} ${path}`)
          assert.equal(
            res.headers['x-error-code'],
            undefined,
            'no Hub code: huggingface_hub takes a 504 for offline',
          )
          assert.ok(Date.now() - t < 2500, `${method} ${path} answered in ${Date.now() - t} ms`)
        }
      }
    } finally {
      for (const s of sockets) s.destroy()
      await new Promise<void>((resolve) => silent.close(() => resolve()))
    }
  })

  it('serves the part of a revision it knows (a snapshot folder) and answers 504, not 404, for the rest', async () => {
    const dir = join(tmp(), 'gw')
    const commit = randomCommit()
    const bin = randomBytes(100_000)
    for (const folder of ['models--org--part', 'datasets--org--part']) {
      await writeFakeRepo(join(dir, 'hub-cache'), folder, commit, [
        { path: 'config.json', data: Buffer.from('{"p": 1}'), lfs: false },
        { path: 'w/model.bin', data: bin, lfs: true },
      ])
    }
    await hub.close() // connection refused from now on
    gw = await startInProcessGateway(dir, hub.url)
    for (const [prefix, api] of [
      ['', 'models'],
      ['/datasets', 'datasets'],
    ]) {
      const head = await rawRequest(`${gw.url}${prefix}/org/part/resolve/main/w/model.bin`, 'HEAD', HF_HEAD)
      assert.equal(head.status, 200)
      assert.equal(head.headers['x-repo-commit'], commit)
      assert.equal(head.headers['x-linked-size'], String(bin.byteLength))
      const get = await rawRequest(`${gw.url}${prefix}/org/part/resolve/main/w/model.bin`, 'GET', {
        range: 'bytes=50000-',
      })
      assert.equal(get.status, 206)
      assert.ok(get.body.equals(bin.subarray(50_000)))
      const other = await rawRequest(`${gw.url}${prefix}/org/part/resolve/main/other.bin`, 'HEAD', HF_HEAD)
      assertHubError(other, 504, 'a file the partial listing lacks may exist')
      const info = JSON.parse(
        (await rawRequest(`${gw.url}/api/${api}/org/part/revision/main`, 'GET')).body.toString(),
      ) as { sha: string; siblings: { rfilename: string }[] }
      assert.equal(info.sha, commit)
      assert.deepEqual(
        info.siblings.map((f) => f.rfilename),
        ['config.json', 'w/model.bin'],
      )
      const root = await rawRequest(`${gw.url}/api/${api}/org/part/tree/main`, 'GET')
      assert.equal(root.status, 200)
      assert.deepEqual(
        (JSON.parse(root.body.toString()) as { path: string }[]).map((e) => e.path),
        ['config.json', 'w'],
      )
      const sub = await rawRequest(`${gw.url}/api/${api}/org/part/tree/main/w`, 'GET')
      assert.deepEqual(
        (JSON.parse(sub.body.toString()) as { path: string }[]).map((e) => e.path),
        ['w/model.bin'],
      )
      assertHubError(await rawRequest(`${gw.url}/api/${api}/org/part/tree/main/nodir`, 'GET'), 504, 'folder')
      const form = { 'content-type': 'application/x-www-form-urlencoded' }
      const known = await rawRequest(
        `${gw.url}/api/${api}/org/part/paths-info/main`,
        'POST',
        form,
        'paths=w/model.bin&paths=w',
      )
      assert.equal(known.status, 200)
      assert.deepEqual(
        (JSON.parse(known.body.toString()) as { path: string; type: string }[]).map(
          (e) => `${e.type} ${e.path}`,
        ),
        ['file w/model.bin', 'directory w'],
      )
      const json = { 'content-type': 'application/json' }
      const part = await rawRequest(
        `${gw.url}/api/${api}/org/part/paths-info/main`,
        'POST',
        json,
        JSON.stringify({ paths: ['config.json', 'maybe.txt'] }),
      )
      assertHubError(part, 504, 'paths-info with a path the partial listing lacks')
    }
  })
})
