import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import { request } from 'node:http'
import { join } from 'node:path'
import { startMockHub, type MockHub } from '../../../scripts/mock-hub/index.ts'
import { gitBlobSha1 } from '../../../src/store/blob-etag.ts'
import { blobPath } from '../../../src/store/hf-cache/index.ts'
import { writeMockBranch } from '../../helpers/mock-repos.ts'
import { useTmpDir } from '../../helpers/tmp-dir.ts'
import {
  rawRequest,
  startInProcessGateway,
  type InProcessGateway,
  type RawAnswer,
} from './gateway-fixture.ts'

/** What huggingface_hub puts on its metadata HEAD (`get_hf_file_metadata`). */
const HF_HEAD = { 'user-agent': 'huggingface_hub/1.2.3; python/3.12', 'accept-encoding': 'identity' }

describe('gateway: the Hub download protocol as huggingface_hub replays it (plain HTTP)', function () {
  this.timeout(60_000)
  const tmp = useTmpDir()
  let hub: MockHub
  let gw: InProcessGateway
  const weights = randomBytes(3 * 1024 * 1024 + 5)
  const parquet = randomBytes(200_000)
  const prWeights = randomBytes(1024 * 1024 + 3)
  const spaceBin = randomBytes(300_001)

  beforeEach(async () => {
    const root = join(tmp(), 'mock')
    await writeMockBranch(root, 'models/org/m', 'main', {
      'model.safetensors': weights,
      'config.json': '{"a": 1}',
      'sub dir/tok.json': '{"t": true}',
      'empty.txt': '',
    })
    await writeMockBranch(root, 'models/org/m', 'refs--pr--1', {
      'config.json': '{"a": 2}',
      'pr.safetensors': prWeights,
    })
    await writeMockBranch(root, 'models/solo', 'main', { 'a.txt': 'solo' })
    await writeMockBranch(root, 'datasets/org/d', 'main', { 'data/train.parquet': parquet })
    await writeMockBranch(root, 'spaces/org/s', 'main', { 'app.py': 'print(1)\n', 'assets/w.bin': spaceBin })
    await writeMockBranch(root, 'models/org/gated', 'main', { 'g.safetensors': randomBytes(1000) })
    await writeFile(
      join(root, 'models/org/gated/.mock.json'),
      JSON.stringify({ gated: true, grantedTokens: ['hf_granted'] }),
    )
    await writeFile(join(root, 'models/org/m/.mock.json'), JSON.stringify({ renamedFrom: ['org/old-name'] }))
    hub = await startMockHub({ root })
    gw = await startInProcessGateway(join(tmp(), 'gw'), hub.url)
  })
  afterEach(async () => {
    await gw.stop()
    await hub.close()
  })

  const commitOf = async (type: string, id: string, rev: string): Promise<string> =>
    (
      (await (await fetch(`${hub.url}/api/${type}s/${id}/revision/${encodeURIComponent(rev)}`)).json()) as {
        sha: string
      }
    ).sha

  it('answers the metadata HEAD of an LFS file itself (no redirect) with every header clients read', async () => {
    const sha256 = createHash('sha256').update(weights).digest('hex')
    const res = await rawRequest(`${gw.url}/org/m/resolve/main/model.safetensors`, 'HEAD', HF_HEAD)
    assert.equal(res.status, 200)
    assert.equal(res.headers.location, undefined, 'no redirect to the upstream CDN')
    assert.equal(res.headers['x-repo-commit'], await commitOf('model', 'org/m', 'main'))
    assert.equal(res.headers.etag, `"${sha256}"`)
    assert.equal(res.headers['x-linked-etag'], `"${sha256}"`)
    assert.equal(res.headers['x-linked-size'], String(weights.byteLength))
    assert.equal(res.headers['content-length'], String(weights.byteLength))
    assert.equal(res.headers['accept-ranges'], 'bytes')
    assert.equal(res.headers['x-xet-hash'], undefined, 'no Xet: the bytes come from the gateway over HTTP')
    const exposed = String(res.headers['access-control-expose-headers']).split(',')
    for (const h of [
      'X-Repo-Commit',
      'ETag',
      'X-Linked-Size',
      'X-Linked-ETag',
      'Accept-Ranges',
      'Content-Range',
      'X-Error-Code',
    ])
      assert.ok(exposed.includes(h), h)
    assert.equal(res.body.byteLength, 0)
    assert.equal(hub.stats().totalBytes, 0, 'a HEAD moves no file bytes')
  })

  it('follows the upstream relative redirect of a regular file and answers with its git etag and length', async () => {
    const up = await rawRequest(`${hub.url}/org/m/resolve/main/config.json`, 'HEAD', HF_HEAD)
    assert.equal(up.status, 307, 'the mock, like the Hub, redirects to /api/resolve-cache')
    const res = await rawRequest(`${gw.url}/org/m/resolve/main/config.json`, 'HEAD', HF_HEAD)
    assert.equal(res.status, 200)
    assert.equal(res.headers.etag, `"${gitBlobSha1(Buffer.from('{"a": 1}'))}"`)
    assert.equal(res.headers['content-length'], '8')
    assert.equal(res.headers['x-linked-etag'], undefined)
    assert.equal(res.headers['x-linked-size'], undefined)
    assert.equal(res.headers['x-repo-commit'], up.headers['x-repo-commit'])
  })

  it('resumes a GET from a middle offset with Range (206), before and after the blob is cached', async () => {
    const url = `${gw.url}/org/m/resolve/main/model.safetensors`
    const from = 1_234_567
    for (const round of ['pulled now', 'cached']) {
      const res = await rawRequest(url, 'GET', { ...HF_HEAD, range: `bytes=${from}-` })
      assert.equal(res.status, 206, round)
      assert.equal(
        res.headers['content-range'],
        `bytes ${from}-${weights.byteLength - 1}/${weights.byteLength}`,
      )
      assert.equal(res.headers['content-length'], String(weights.byteLength - from))
      assert.ok(res.body.equals(weights.subarray(from)), round)
    }
    const whole = await rawRequest(url, 'GET', { 'accept-encoding': 'identity' })
    assert.equal(whole.status, 200)
    assert.ok(whole.body.equals(weights))
    const sha256 = createHash('sha256').update(weights).digest('hex')
    const cached = await readFile(blobPath(gw.cacheDir, { type: 'model', id: 'org/m' }, sha256))
    assert.ok(Buffer.from(cached).equals(weights), 'the blob is in the node cache')
  })

  it('starts sending a blob it pulls before the pull has finished', async () => {
    // ~1.6 s for the file; the download engine writes (and records) 1 MiB at a time.
    hub.setOptions({ rateBytesPerSec: 2_000_000 })
    const started = Date.now()
    const { firstByteMs, endMs, body } = await new Promise<{
      firstByteMs: number
      endMs: number
      body: Buffer
    }>((resolve, reject) => {
      let firstByteMs = -1
      const parts: Buffer[] = []
      const req = request(`${gw.url}/org/m/resolve/main/model.safetensors`, { agent: false }, (res) => {
        res.on('data', (c: Buffer) => {
          if (firstByteMs < 0) firstByteMs = Date.now() - started
          parts.push(c)
        })
        res.on('end', () => resolve({ firstByteMs, endMs: Date.now() - started, body: Buffer.concat(parts) }))
        res.on('error', reject)
      })
      req.on('error', reject)
      req.end()
    })
    assert.ok(body.equals(weights))
    assert.ok(endMs > 1000, `the download took ${endMs} ms`)
    assert.ok(firstByteMs < endMs * 0.6, `first byte after ${firstByteMs} ms of ${endMs} ms`)
  })

  it("answers @huggingface/hub's bytes=0-0 probe with 206 and the total, a range past the end with 416", async () => {
    const url = `${gw.url}/org/m/resolve/main/model.safetensors`
    const probe = await rawRequest(url, 'GET', {
      range: 'bytes=0-0',
      accept: 'application/vnd.xet-fileinfo+json, */*',
    })
    assert.equal(probe.status, 206)
    assert.equal(probe.headers['content-range'], `bytes 0-0/${weights.byteLength}`)
    assert.doesNotMatch(String(probe.headers['content-type']), /xet/)
    assert.ok(probe.body.equals(weights.subarray(0, 1)))
    const past = await rawRequest(url, 'GET', { range: `bytes=${weights.byteLength}-` })
    assert.equal(past.status, 416)
    assert.equal(past.headers['content-range'], `bytes */${weights.byteLength}`)
    const empty = await rawRequest(`${gw.url}/org/m/resolve/main/empty.txt`, 'GET', { range: 'bytes=0-0' })
    assert.equal(empty.status, 200)
    assert.equal(empty.headers['content-range'], 'bytes */0')
    assert.equal(empty.body.byteLength, 0)
  })

  it('serves PR revisions (quoted or not), datasets, spaces and org-less repos', async () => {
    const pr = await commitOf('model', 'org/m', 'refs/pr/1')
    for (const rev of ['refs%2Fpr%2F1', 'refs/pr/1']) {
      const res = await rawRequest(`${gw.url}/org/m/resolve/${rev}/config.json`, 'GET', HF_HEAD)
      assert.equal(res.status, 200, rev)
      assert.equal(res.headers['x-repo-commit'], pr)
      assert.equal(res.body.toString(), '{"a": 2}')
    }
    const d = await rawRequest(`${gw.url}/datasets/org/d/resolve/main/data/train.parquet`, 'GET', HF_HEAD)
    assert.equal(d.status, 200)
    assert.ok(d.body.equals(parquet))
    assert.equal(d.headers['x-repo-commit'], await commitOf('dataset', 'org/d', 'main'))
    const s = await rawRequest(`${gw.url}/spaces/org/s/resolve/main/app.py`, 'GET', HF_HEAD)
    assert.equal(s.body.toString(), 'print(1)\n')
    const solo = await rawRequest(`${gw.url}/solo/resolve/main/a.txt`, 'GET', HF_HEAD)
    assert.equal(solo.body.toString(), 'solo')
  })

  it("passes on the upstream's errors with their X-Error-Code (and X-Repo-Commit for a missing file)", async () => {
    const missing = await rawRequest(`${gw.url}/org/m/resolve/main/nope.bin`, 'HEAD', HF_HEAD)
    assert.equal(missing.status, 404)
    assert.equal(missing.headers['x-error-code'], 'EntryNotFound')
    assert.equal(missing.headers['x-repo-commit'], await commitOf('model', 'org/m', 'main'))
    const rev = await rawRequest(`${gw.url}/org/m/resolve/nobranch/config.json`, 'GET', HF_HEAD)
    assert.equal(rev.status, 404)
    assert.equal(rev.headers['x-error-code'], 'RevisionNotFound')
    const repo = await rawRequest(`${gw.url}/org/none/resolve/main/config.json`, 'HEAD', HF_HEAD)
    assert.equal(repo.status, 401)
    assert.equal(repo.headers['x-error-code'], 'RepoNotFound')
    assert.ok(String(repo.headers['x-error-message']).length > 0)
    const info = await rawRequest(`${gw.url}/api/models/org/none/revision/main`, 'GET')
    assert.equal(info.status, 401)
    assert.equal(info.headers['x-error-code'], 'RepoNotFound')
  })

  it('relays revision info, tree pages (Link pointed back at the gateway) and paths-info (JSON and form)', async () => {
    const q = '?expand=sha&expand=private&expand=gated'
    const info = await rawRequest(`${gw.url}/api/models/org/m/revision/main${q}`, 'GET')
    const direct = await rawRequest(`${hub.url}/api/models/org/m/revision/main${q}`, 'GET')
    assert.deepEqual(JSON.parse(info.body.toString()), JSON.parse(direct.body.toString()))

    const strip = (entries: { xetHash?: string }[]) => entries.map(({ xetHash: _x, ...e }) => e)
    const all = strip(
      JSON.parse(
        (await rawRequest(`${hub.url}/api/models/org/m/tree/main?recursive=true`, 'GET')).body.toString(),
      ),
    )
    assert.equal(all.length, 5)
    hub.setOptions({ treePageSize: 2 })
    let next: string | null = `${gw.url}/api/models/org/m/tree/main?recursive=true&expand=false`
    const paged: unknown[] = []
    for (let page = 0; next !== null && page < 20; page++) {
      const res = await rawRequest(next, 'GET')
      assert.equal(res.status, 200)
      paged.push(...(JSON.parse(res.body.toString()) as unknown[]))
      const link = res.headers.link
      next = link === undefined ? null : (/<([^>]+)>;\s*rel="next"/.exec(String(link))?.[1] ?? null)
      if (next !== null)
        assert.ok(next.startsWith(`${gw.url}/api/`), `next page through the gateway: ${next}`)
    }
    assert.deepEqual(paged, all, 'every page came through the gateway, without xetHash')

    const form = await rawRequest(
      `${gw.url}/api/models/org/m/paths-info/main`,
      'POST',
      { 'content-type': 'application/x-www-form-urlencoded' },
      'paths=config.json&paths=model.safetensors&expand=True',
    )
    const json = await rawRequest(
      `${gw.url}/api/models/org/m/paths-info/main`,
      'POST',
      { 'content-type': 'application/json' },
      JSON.stringify({ paths: ['config.json', 'model.safetensors'], expand: true }),
    )
    const entries = JSON.parse(form.body.toString()) as {
      path: string
      lastCommit?: unknown
      xetHash?: unknown
      lfs?: unknown
    }[]
    assert.deepEqual(
      entries.map((e) => e.path),
      ['config.json', 'model.safetensors'],
    )
    assert.ok(entries.every((e) => e.lastCommit !== undefined && e.xetHash === undefined))
    assert.deepEqual(JSON.parse(json.body.toString()), entries)
  })

  it('answers HEAD and a Range resume from a middle offset with every header read, for model, PR, dataset and space', async () => {
    const cases = [
      {
        label: 'model',
        url: '/org/m/resolve/main/model.safetensors',
        type: 'model',
        id: 'org/m',
        rev: 'main',
        bytes: weights,
      },
      {
        label: 'refs/pr/1',
        url: '/org/m/resolve/refs%2Fpr%2F1/pr.safetensors',
        type: 'model',
        id: 'org/m',
        rev: 'refs/pr/1',
        bytes: prWeights,
      },
      {
        label: 'dataset',
        url: '/datasets/org/d/resolve/main/data/train.parquet',
        type: 'dataset',
        id: 'org/d',
        rev: 'main',
        bytes: parquet,
      },
      {
        label: 'space',
        url: '/spaces/org/s/resolve/main/assets/w.bin',
        type: 'space',
        id: 'org/s',
        rev: 'main',
        bytes: spaceBin,
      },
    ]
    for (const c of cases) {
      const sha256 = `"${createHash('sha256').update(c.bytes).digest('hex')}"`
      const commit = await commitOf(c.type, c.id, c.rev)
      const head = await rawRequest(`${gw.url}${c.url}`, 'HEAD', HF_HEAD)
      assert.equal(head.status, 200, c.label)
      assert.equal(head.headers.location, undefined, c.label)
      assert.equal(head.headers['content-encoding'], undefined, `${c.label}: identity asked`)
      assert.equal(head.headers['x-repo-commit'], commit, c.label)
      assert.equal(head.headers.etag, sha256, c.label)
      assert.equal(head.headers['x-linked-etag'], sha256, c.label)
      assert.equal(head.headers['x-linked-size'], String(c.bytes.byteLength), c.label)
      assert.equal(head.headers['content-length'], String(c.bytes.byteLength), c.label)
      assert.equal(head.headers['accept-ranges'], 'bytes', c.label)
      assert.equal(head.body.byteLength, 0)

      // huggingface_hub resumes an interrupted download from its .incomplete file's size.
      const from = Math.floor(c.bytes.byteLength / 2) + 7
      const get = await rawRequest(`${gw.url}${c.url}`, 'GET', { ...HF_HEAD, range: `bytes=${from}-` })
      assert.equal(get.status, 206, c.label)
      assert.equal(
        get.headers['content-range'],
        `bytes ${from}-${c.bytes.byteLength - 1}/${c.bytes.byteLength}`,
      )
      assert.equal(get.headers['content-length'], String(c.bytes.byteLength - from), c.label)
      assert.equal(get.headers['accept-ranges'], 'bytes', c.label)
      assert.equal(get.headers.etag, sha256, c.label)
      assert.equal(get.headers['x-repo-commit'], commit, c.label)
      assert.equal(get.headers['content-encoding'], undefined, c.label)
      assert.ok(get.body.equals(c.bytes.subarray(from)), c.label)
    }
  })

  it('follows only relative upstream redirects (a renamed repo, resolve-cache) and never redirects a client', async () => {
    const seen: RawAnswer[] = []
    const ask = async (
      url: string,
      method = 'HEAD',
      headers: Record<string, string> = HF_HEAD,
    ): Promise<RawAnswer> => {
      const res = await rawRequest(`${gw.url}${url}`, method, headers)
      seen.push(res)
      return res
    }
    const renamed = await rawRequest(`${hub.url}/org/old-name/resolve/main/config.json`, 'HEAD', HF_HEAD)
    assert.equal(renamed.status, 307, 'the mock, like the Hub, redirects a renamed repo')
    assert.ok(String(renamed.headers.location).startsWith('/org/m/'), 'relatively')
    hub.resetStats()
    const old = await ask('/org/old-name/resolve/main/config.json')
    assert.equal(old.status, 200)
    assert.equal(old.headers.etag, `"${gitBlobSha1(Buffer.from('{"a": 1}'))}"`)
    assert.equal(old.headers['x-repo-commit'], await commitOf('model', 'org/m', 'main'))
    const lfs = await ask('/org/old-name/resolve/main/model.safetensors')
    assert.equal(lfs.status, 200)
    assert.equal(lfs.headers['x-linked-size'], String(weights.byteLength))
    assert.equal(
      hub.stats().requests.byRoute.cdn ?? 0,
      0,
      "the LFS file's absolute redirect (CDN) is not followed",
    )
    assert.equal(hub.stats().totalBytes, 0)
    await ask('/org/m/resolve/main/sub%20dir/tok.json', 'GET', {})
    await ask('/org/m/resolve/main/model.safetensors', 'GET', { range: 'bytes=0-0' })
    for (const res of seen) {
      assert.ok(res.status < 300 || res.status >= 400, `status ${res.status}`)
      assert.equal(res.headers.location, undefined)
    }
  })

  it("answers a gated repo's HEAD as the Hub does: 401 or 403 GatedRepo, 200 with a granted token", async () => {
    hub.setOptions({ tokens: ['hf_granted', 'hf_other'] })
    const url = `${gw.url}/org/gated/resolve/main/g.safetensors`
    const anon = await rawRequest(url, 'HEAD', HF_HEAD)
    assert.equal(anon.status, 401)
    assert.equal(anon.headers['x-error-code'], 'GatedRepo')
    assert.ok(String(anon.headers['x-error-message']).length > 0)
    const other = await rawRequest(url, 'HEAD', { ...HF_HEAD, authorization: 'Bearer hf_other' })
    assert.equal(other.status, 403)
    assert.equal(other.headers['x-error-code'], 'GatedRepo')
    const granted = await rawRequest(url, 'HEAD', { ...HF_HEAD, authorization: 'Bearer hf_granted' })
    assert.equal(granted.status, 200)
    assert.equal(granted.headers['x-linked-size'], '1000')
    const dsMissing = await rawRequest(`${gw.url}/datasets/org/d/resolve/main/nope.parquet`, 'HEAD', HF_HEAD)
    assert.equal(dsMissing.status, 404)
    assert.equal(dsMissing.headers['x-error-code'], 'EntryNotFound')
    assert.equal(dsMissing.headers['x-repo-commit'], await commitOf('dataset', 'org/d', 'main'))
    const prMissing = await rawRequest(`${gw.url}/org/m/resolve/refs%2Fpr%2F9/config.json`, 'HEAD', HF_HEAD)
    assert.equal(prMissing.status, 404)
    assert.equal(prMissing.headers['x-error-code'], 'RevisionNotFound')
  })
})
