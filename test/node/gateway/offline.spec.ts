import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { createServer, type Server, type Socket } from 'node:net'
import { join } from 'node:path'
import { downloadFileToCacheDir, snapshotDownload } from '@huggingface/hub'
import { startMockHub, type MockHub } from '../../../scripts/mock-hub/index.ts'
import { writeMockBranch } from '../../helpers/mock-repos.ts'
import { useTmpDir } from '../../helpers/tmp-dir.ts'
import { rawRequest, startInProcessGateway, type InProcessGateway } from './gateway-fixture.ts'

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
})
