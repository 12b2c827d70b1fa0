import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { once } from 'node:events'
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { downloadFileToCacheDir, snapshotDownload } from '@huggingface/hub'
import { parseFault, startMockHub, type MockHub } from '../../scripts/mock-hub/index.ts'
import { chunkBytes, fileHash, hashToHex } from '../../src/store/xet/index.ts'
import {
  DATASET,
  expectedEtag,
  LFS_PATH,
  LFS_SIZE,
  makeHubFixture,
  MODEL,
  UNICODE_PATH,
  type BranchFiles,
  type HubFixture,
} from './mock-hub-fixture.ts'
import { pythonStyleHead, rawRequest } from './mock-hub-http.ts'

/** huggingface_hub's `quote(filename)`: slashes kept. */
const quotePath = (p: string): string => p.split('/').map(encodeURIComponent).join('/')
const sha1 = (s: string | Buffer): string => createHash('sha1').update(s).digest('hex')

describe('mock hub (scripts/mock-hub)', function () {
  this.timeout(30_000)
  let fx: HubFixture
  let hub: MockHub
  const temps: string[] = []
  const quietDebug = console.debug

  const files = (branch: string): BranchFiles => fx.branches.get(branch)!
  const modelFiles = (folder: string): BranchFiles => files(`models/${MODEL}/${folder}`)
  const lfsData = (): Buffer => modelFiles('main').get(LFS_PATH)!

  async function tempDir(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'mock-hub-cache-'))
    temps.push(dir)
    return dir
  }

  async function getJson<T>(path: string, headers: Record<string, string> = {}): Promise<T> {
    const res = await fetch(hub.url + path, { headers })
    assert.equal(res.status, 200, `${path}: ${res.status}`)
    return (await res.json()) as T
  }

  const shaOf = async (type: string, repo: string, rev: string): Promise<string> =>
    (await getJson<{ sha: string }>(`/api/${type}s/${repo}/revision/${encodeURIComponent(rev)}`)).sha

  /** Every file of the snapshot is a relative symlink to blobs/<etag> with the source's bytes. */
  async function assertSnapshotMatches(snapshotDir: string, expected: BranchFiles): Promise<void> {
    const found: string[] = []
    const walk = async (dir: string): Promise<void> => {
      for (const e of await readdir(dir, { withFileTypes: true })) {
        const p = join(dir, e.name)
        if (e.isDirectory()) await walk(p)
        else found.push(relative(snapshotDir, p).split(sep).join('/'))
      }
    }
    await walk(snapshotDir)
    assert.deepEqual(found.sort(), [...expected.keys()].sort())
    for (const [path, data] of expected) {
      const pointer = join(snapshotDir, path)
      assert.ok((await lstat(pointer)).isSymbolicLink(), `${path} is a symlink`)
      const target = await readlink(pointer)
      assert.ok(!target.startsWith('/'), `${path} links relatively`)
      const blob = resolve(dirname(pointer), target)
      assert.equal(
        blob,
        join(snapshotDir, '..', '..', 'blobs', expectedEtag(path, data)),
        `${path} blob name`,
      )
      assert.ok((await readFile(pointer)).equals(data), `${path} bytes`)
    }
  }

  before(async () => {
    console.debug = () => {} // @huggingface/hub logs every download
    fx = await makeHubFixture()
    temps.push(fx.root)
    hub = await startMockHub({ root: fx.root, tokens: ['hf_granted', 'hf_other'], treePageSize: 3 })
  })

  after(async () => {
    console.debug = quietDebug
    await hub?.close()
    await Promise.all(temps.map((d) => rm(d, { recursive: true, force: true })))
  })

  afterEach(() => hub.setOptions({ faults: [], rateBytesPerSec: 0, latencyMs: 0 }))

  describe('@huggingface/hub against the mock', () => {
    it('snapshotDownload fetches every branch byte for byte, sharing blobs and writing refs', async () => {
      const cacheDir = await tempDir()
      const shas = new Set<string>()
      for (const [revision, folder] of [
        ['main', 'main'],
        ['v2', 'v2'],
        ['refs/pr/1', 'refs--pr--1'],
      ]) {
        const snapshot = await snapshotDownload({ repo: MODEL, revision, hubUrl: hub.url, cacheDir })
        const sha = await shaOf('model', MODEL, revision)
        shas.add(sha)
        assert.equal(snapshot, join(cacheDir, 'models--acme--tiny-model', 'snapshots', sha))
        await assertSnapshotMatches(snapshot, modelFiles(folder))
        const ref = await readFile(
          join(cacheDir, 'models--acme--tiny-model', 'refs', ...revision.split('/')),
          'utf8',
        )
        assert.equal(ref, sha)
      }
      assert.equal(shas.size, 3)
      const etags = new Set<string>()
      for (const folder of ['main', 'v2', 'refs--pr--1']) {
        for (const [p, d] of modelFiles(folder)) etags.add(expectedEtag(p, d))
      }
      const blobs = await readdir(join(cacheDir, 'models--acme--tiny-model', 'blobs'))
      assert.deepEqual(blobs.sort(), [...etags].sort())
    })

    it('snapshotDownload fetches a dataset', async () => {
      const cacheDir = await tempDir()
      const repo = { type: 'dataset' as const, name: DATASET }
      const snapshot = await snapshotDownload({ repo, hubUrl: hub.url, cacheDir })
      assert.equal(
        snapshot,
        join(cacheDir, 'datasets--acme--tiny-data', 'snapshots', await shaOf('dataset', DATASET, 'main')),
      )
      await assertSnapshotMatches(snapshot, files(`datasets/${DATASET}/main`))
    })

    it('downloadFileToCacheDir fetches odd names, the LFS file and the empty file', async () => {
      const cacheDir = await tempDir()
      const sha = await shaOf('model', MODEL, 'main')
      for (const path of [UNICODE_PATH, LFS_PATH, 'empty.txt', 'nested/deeper/deepest/weights.json']) {
        const pointer = await downloadFileToCacheDir({ repo: MODEL, path, hubUrl: hub.url, cacheDir })
        assert.equal(pointer, join(cacheDir, 'models--acme--tiny-model', 'snapshots', sha, path))
        assert.ok((await readFile(pointer)).equals(modelFiles('main').get(path)!), path)
      }
      const prSha = await shaOf('model', MODEL, 'refs/pr/1')
      const pr = await downloadFileToCacheDir({
        repo: MODEL,
        path: 'config.json',
        revision: 'refs/pr/1',
        hubUrl: hub.url,
        cacheDir,
      })
      assert.equal(pr, join(cacheDir, 'models--acme--tiny-model', 'snapshots', prSha, 'config.json'))
      assert.ok((await readFile(pr)).equals(modelFiles('refs--pr--1').get('config.json')!))
    })

    it('serves org-less repos directly and follows a renamed repo', async () => {
      const cacheDir = await tempDir()
      const orgless = await snapshotDownload({ repo: 'orgless', hubUrl: hub.url, cacheDir })
      await assertSnapshotMatches(orgless, files('models/orgless/main'))
      const renamed = await snapshotDownload({ repo: 'acme/old-name', hubUrl: hub.url, cacheDir })
      assert.equal(
        renamed,
        join(cacheDir, 'models--acme--old-name', 'snapshots', await shaOf('model', 'acme/new-name', 'main')),
      )
      await assertSnapshotMatches(renamed, files('models/acme/new-name/main'))
    })

    it('needs a token for private and gated repos', async () => {
      const cacheDir = await tempDir()
      const fails = async (p: Promise<unknown>, status: number): Promise<void> => {
        await assert.rejects(p, (err: Error & { statusCode?: number }) => err.statusCode === status)
      }
      await fails(snapshotDownload({ repo: 'acme/private-model', hubUrl: hub.url, cacheDir }), 401)
      await assertSnapshotMatches(
        await snapshotDownload({
          repo: 'acme/private-model',
          hubUrl: hub.url,
          cacheDir,
          accessToken: 'hf_other',
        }),
        files('models/acme/private-model/main'),
      )
      await fails(snapshotDownload({ repo: 'acme/gated-model', hubUrl: hub.url, cacheDir }), 401)
      await fails(
        snapshotDownload({ repo: 'acme/gated-model', hubUrl: hub.url, cacheDir, accessToken: 'hf_other' }),
        403,
      )
      await assertSnapshotMatches(
        await snapshotDownload({
          repo: 'acme/gated-model',
          hubUrl: hub.url,
          cacheDir,
          accessToken: 'hf_granted',
        }),
        files('models/acme/gated-model/main'),
      )
    })
  })

  describe('resolve, as huggingface_hub reads it', () => {
    it('sends a regular file through a relative 307 to a commit-pinned URL', async () => {
      const sha = await shaOf('model', MODEL, 'main')
      const data = modelFiles('main').get('config.json')!
      const { first, final, finalUrl } = await pythonStyleHead(`${hub.url}/${MODEL}/resolve/main/config.json`)
      assert.equal(first.status, 307)
      assert.match(
        String(first.headers.location),
        new RegExp(`^/api/resolve-cache/models/${MODEL}/${sha}/config.json\\?`),
      )
      assert.equal(final.status, 200)
      assert.equal(final.headers['x-repo-commit'], sha)
      assert.equal(final.headers.etag, `"${expectedEtag('config.json', data)}"`)
      assert.equal(final.headers['content-length'], String(data.byteLength))
      assert.equal(final.headers['accept-ranges'], 'bytes')
      assert.equal(final.headers['content-encoding'], undefined)
      assert.match(String(final.headers['access-control-expose-headers']), /X-Repo-Commit.*X-Linked-Size/)
      const got = await rawRequest(finalUrl)
      assert.ok(got.body.equals(data))
    })

    it('resolves a quoted unicode path at a commit and a url-encoded refs/pr/1', async () => {
      const sha = await shaOf('model', MODEL, 'main')
      const data = modelFiles('main').get(UNICODE_PATH)!
      const head = await pythonStyleHead(`${hub.url}/${MODEL}/resolve/${sha}/${quotePath(UNICODE_PATH)}`)
      assert.equal(head.final.status, 200)
      assert.equal(head.final.headers['content-length'], String(data.byteLength))
      assert.ok((await rawRequest(head.finalUrl)).body.equals(data))

      const prSha = await shaOf('model', MODEL, 'refs/pr/1')
      assert.notEqual(prSha, sha)
      const pr = await pythonStyleHead(
        `${hub.url}/${MODEL}/resolve/${encodeURIComponent('refs/pr/1')}/config.json`,
      )
      assert.equal(pr.final.headers['x-repo-commit'], prSha)
      assert.ok((await rawRequest(pr.finalUrl)).body.equals(modelFiles('refs--pr--1').get('config.json')!))
    })

    it('serves empty files and org-less repos with a plain 200', async () => {
      const empty = await pythonStyleHead(`${hub.url}/${MODEL}/resolve/main/empty.txt`)
      assert.equal(empty.first.status, 200)
      assert.equal(empty.first.headers['content-length'], '0')
      assert.equal(empty.first.headers.etag, '"e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"')
      const orgless = await pythonStyleHead(`${hub.url}/orgless/resolve/main/config.json`)
      assert.equal(orgless.first.status, 200)
      assert.equal(orgless.first.headers['x-repo-commit'], await shaOf('model', 'orgless', 'main'))
    })

    it('redirects an LFS file to an absolute CDN URL with X-Linked-Etag and X-Linked-Size', async () => {
      const sha = await shaOf('model', MODEL, 'main')
      const sha256 = createHash('sha256').update(lfsData()).digest('hex')
      const { first, final } = await pythonStyleHead(`${hub.url}/${MODEL}/resolve/main/${LFS_PATH}`)
      assert.equal(first, final) // absolute redirects are not followed
      assert.equal(first.status, 302)
      assert.equal(first.headers['x-repo-commit'], sha)
      assert.equal(first.headers['x-linked-etag'], `"${sha256}"`)
      assert.equal(first.headers['x-linked-size'], String(LFS_SIZE))
      assert.ok(first.headers.etag)
      const location = String(first.headers.location)
      assert.ok(location.startsWith(`${hub.url}/_cdn/${sha256}?`), location)
      const whole = await rawRequest(location) // no Authorization: a presigned URL
      assert.equal(whole.status, 200)
      assert.ok(whole.body.equals(lfsData()))
      const tampered = await rawRequest(location.replace(/Signature=[0-9a-f]{4}/, 'Signature=0000'))
      assert.equal(tampered.status, 403)

      const raw = await rawRequest(`${hub.url}/${MODEL}/raw/main/${LFS_PATH}`)
      assert.equal(raw.status, 200)
      assert.equal(
        raw.body.toString(),
        `version https://git-lfs.github.com/spec/v1\noid sha256:${sha256}\nsize ${LFS_SIZE}\n`,
      )
    })

    it('sends a renamed repo through relative 307s', async () => {
      const { first, final, finalUrl } = await pythonStyleHead(
        `${hub.url}/acme/old-name/resolve/main/config.json`,
      )
      assert.equal(first.status, 307)
      assert.equal(first.headers.location, '/acme/new-name/resolve/main/config.json')
      assert.equal(final.status, 200)
      assert.equal(final.headers['x-repo-commit'], await shaOf('model', 'acme/new-name', 'main'))
      assert.ok(
        (await rawRequest(finalUrl)).body.equals(files('models/acme/new-name/main').get('config.json')!),
      )
    })

    it('honours Range: a-b, a-, -n (206), past the end (416), and bytes=0-0 on an empty file', async () => {
      const location = String(
        (await rawRequest(`${hub.url}/${MODEL}/resolve/main/${LFS_PATH}`, { method: 'HEAD' })).headers
          .location,
      )
      const cases: [string, number, number][] = [
        ['bytes=2-5', 2, 5],
        [`bytes=${LFS_SIZE - 10}-`, LFS_SIZE - 10, LFS_SIZE - 1],
        ['bytes=-4', LFS_SIZE - 4, LFS_SIZE - 1],
        [`bytes=100-${LFS_SIZE + 50}`, 100, LFS_SIZE - 1],
      ]
      for (const [range, start, end] of cases) {
        const r = await rawRequest(location, { headers: { Range: range } })
        assert.equal(r.status, 206, range)
        assert.equal(r.headers['content-range'], `bytes ${start}-${end}/${LFS_SIZE}`)
        assert.ok(r.body.equals(lfsData().subarray(start, end + 1)), range)
      }
      const past = await rawRequest(location, { headers: { Range: `bytes=${LFS_SIZE}-` } })
      assert.equal(past.status, 416)
      assert.equal(past.headers['content-range'], `bytes */${LFS_SIZE}`)
      const empty = await rawRequest(`${hub.url}/${MODEL}/resolve/main/empty.txt`, {
        headers: { Range: 'bytes=0-0' },
      })
      assert.equal(empty.status, 200)
      assert.equal(empty.headers['content-range'], 'bytes */0')
      assert.equal(empty.body.byteLength, 0)
    })

    it('answers 404 with RepoNotFound, RevisionNotFound and EntryNotFound (+ X-Repo-Commit)', async () => {
      const sha = await shaOf('model', MODEL, 'main')
      const noRepo = await rawRequest(`${hub.url}/acme/nope/resolve/main/config.json`, { method: 'HEAD' })
      assert.equal(noRepo.status, 401) // anonymous callers cannot tell missing from private
      assert.equal(noRepo.headers['x-error-code'], 'RepoNotFound')
      const noRepoAuth = await rawRequest(`${hub.url}/api/models/acme/nope/revision/main`, {
        headers: { Authorization: 'Bearer hf_other' },
      })
      assert.equal(noRepoAuth.status, 404)
      assert.equal(noRepoAuth.headers['x-error-code'], 'RepoNotFound')
      const noRev = await rawRequest(`${hub.url}/${MODEL}/resolve/nope/config.json`, { method: 'HEAD' })
      assert.equal(noRev.status, 404)
      assert.equal(noRev.headers['x-error-code'], 'RevisionNotFound')
      assert.ok(noRev.headers['x-error-message'])
      const noEntry = await rawRequest(`${hub.url}/${MODEL}/resolve/main/missing.txt`, { method: 'HEAD' })
      assert.equal(noEntry.status, 404)
      assert.equal(noEntry.headers['x-error-code'], 'EntryNotFound')
      assert.equal(noEntry.headers['x-repo-commit'], sha)
      const json = await rawRequest(`${hub.url}/${MODEL}/resolve/main/missing.txt`)
      assert.deepEqual(JSON.parse(json.body.toString()), { error: 'Entry not found' })
    })

    it('answers 401 for private and gated repos without a token, and serves them with one', async () => {
      const url = `${hub.url}/acme/private-model/resolve/main/config.json`
      const anonymous = await pythonStyleHead(url)
      assert.equal(anonymous.first.status, 401)
      assert.equal(anonymous.first.headers['x-error-code'], 'RepoNotFound')
      const api = await rawRequest(`${hub.url}/api/models/acme/private-model/revision/main`)
      assert.equal(api.status, 401)
      const authed = await pythonStyleHead(url, { Authorization: 'Bearer hf_other' })
      assert.equal(authed.first.status, 200) // private repos are served directly
      const bad = await rawRequest(url, { method: 'HEAD', headers: { Authorization: 'Bearer hf_wrong' } })
      assert.equal(bad.status, 401)
      assert.equal(bad.headers['x-error-message'], 'Invalid credentials in Authorization header')

      const gated = `${hub.url}/acme/gated-model/resolve/main/config.json`
      const g401 = await rawRequest(gated, { method: 'HEAD' })
      assert.equal(g401.status, 401)
      assert.equal(g401.headers['x-error-code'], 'GatedRepo')
      const g403 = await rawRequest(gated, { method: 'HEAD', headers: { Authorization: 'Bearer hf_other' } })
      assert.equal(g403.status, 403)
      assert.equal(g403.headers['x-error-code'], 'GatedRepo')
      const ok = await rawRequest(gated, { headers: { Authorization: 'Bearer hf_granted' } })
      assert.equal(ok.status, 200)
      // the listing of a gated repo is public, with Xet hashes masked for callers without access
      type Listed = { path: string; xetHash?: string }
      const xetOf = (list: Listed[]): string | undefined => list.find((e) => e.path === 'w.bin')?.xetHash
      assert.equal(xetOf(await getJson<Listed[]>('/api/models/acme/gated-model/tree/main')), '*'.repeat(64))
      const granted = { Authorization: 'Bearer hf_granted' }
      assert.match(
        xetOf(await getJson<Listed[]>('/api/models/acme/gated-model/tree/main', granted))!,
        /^[0-9a-f]{64}$/,
      )
    })
  })

  describe('API', () => {
    it('revision info has the fields both clients read, honours expand= and blobs=true', async () => {
      const sha = await shaOf('model', MODEL, 'main')
      const info = await getJson<Record<string, unknown>>(`/api/models/${MODEL}/revision/main`)
      assert.match(String(info._id), /^[0-9a-f]{24}$/)
      assert.equal(info.id, MODEL)
      assert.equal(info.sha, sha)
      for (const k of ['private', 'gated', 'downloads', 'likes', 'lastModified']) assert.ok(k in info, k)
      const siblings = (info.siblings as { rfilename: string }[]).map((s) => s.rfilename).sort()
      assert.deepEqual(siblings, [...modelFiles('main').keys()].sort())
      assert.equal((await getJson<{ sha: string }>(`/api/models/${MODEL}/revision/HEAD`)).sha, sha)
      assert.equal((await getJson<{ sha: string }>(`/api/models/${MODEL}`)).sha, sha)

      const expanded = await getJson<Record<string, unknown>>(
        `/api/models/${MODEL}/revision/main?expand=sha&expand=private`,
      )
      assert.deepEqual(Object.keys(expanded).sort(), ['_id', 'id', 'private', 'sha'])

      const blobs = await getJson<{ siblings: Record<string, unknown>[] }>(
        `/api/models/${MODEL}/revision/main?blobs=true`,
      )
      const lfs = blobs.siblings.find((s) => s.rfilename === LFS_PATH)!
      assert.deepEqual(lfs.lfs, {
        sha256: expectedEtag(LFS_PATH, lfsData()),
        size: LFS_SIZE,
        pointerSize: lfs.lfs && (lfs.lfs as { pointerSize: number }).pointerSize,
      })
      const cfg = blobs.siblings.find((s) => s.rfilename === 'config.json')!
      assert.equal(cfg.blobId, expectedEtag('config.json', modelFiles('main').get('config.json')!))
    })

    it('tree lists entries with git oids, lfs info and xetHash, paginated by an absolute Link', async () => {
      const sha = await shaOf('model', MODEL, 'main')
      type Entry = {
        type: string
        path: string
        oid: string
        size: number
        lfs?: { oid: string; size: number; pointerSize: number }
        xetHash?: string
        lastCommit?: { id: string }
      }
      const pages: Entry[][] = []
      let next: string | undefined = `${hub.url}/api/models/${MODEL}/tree/main?recursive=true&expand=false`
      while (next) {
        const res: Response = await fetch(next)
        pages.push((await res.json()) as Entry[])
        const link = res.headers.get('link')
        next = link ? /^<(http:\/\/[^>]+)>; rel="next"$/.exec(link)![1] : undefined
      }
      assert.ok(pages.length > 1 && pages.slice(0, -1).every((p) => p.length === 3))
      const entries = pages.flat()
      const dirs = ['dir a', 'dir a/sub', 'nested', 'nested/deeper', 'nested/deeper/deepest']
      assert.deepEqual(entries.map((e) => e.path).sort(), [...modelFiles('main').keys(), ...dirs].sort())
      for (const e of entries) {
        if (e.type === 'directory') {
          assert.ok(dirs.includes(e.path))
          assert.match(e.oid, /^[0-9a-f]{40}$/)
          continue
        }
        const data = modelFiles('main').get(e.path)!
        assert.equal(e.size, data.byteLength)
        if (e.path !== LFS_PATH) {
          assert.equal(e.oid, expectedEtag(e.path, data))
          assert.equal(e.lfs, undefined)
          continue
        }
        const sha256 = expectedEtag(e.path, data)
        const pointer = `version https://git-lfs.github.com/spec/v1\noid sha256:${sha256}\nsize ${data.byteLength}\n`
        assert.deepEqual(e.lfs, { oid: sha256, size: data.byteLength, pointerSize: pointer.length })
        assert.equal(e.oid, sha1(`blob ${pointer.length}\0${pointer}`))
        assert.equal(e.xetHash, hashToHex(fileHash(await chunkBytes(data))))
      }

      const sub = await getJson<Entry[]>(`/api/models/${MODEL}/tree/main/${quotePath('dir a')}?expand=true`)
      assert.deepEqual(
        sub.map((e) => [e.type, e.path, e.lastCommit?.id]),
        [['directory', 'dir a/sub', sha]],
      )
      const prSha = await shaOf('model', MODEL, 'refs/pr/1')
      for (const rev of ['refs/pr/1', encodeURIComponent('refs/pr/1'), prSha]) {
        const pr = await getJson<Entry[]>(`/api/models/${MODEL}/tree/${rev}?expand=true`)
        assert.deepEqual(pr.map((e) => e.path).sort(), [...modelFiles('refs--pr--1').keys()].sort())
        assert.ok(pr.every((e) => e.lastCommit?.id === prSha))
      }
      hub.setOptions({ xetHashes: false })
      const noXet = await getJson<Entry[]>(`/api/models/${MODEL}/tree/main`)
      assert.equal(noXet.find((e) => e.path === LFS_PATH)?.xetHash, undefined)
      hub.setOptions({ xetHashes: true })
      const missing = await rawRequest(`${hub.url}/api/models/${MODEL}/tree/main/nope`)
      assert.equal(missing.status, 404)
    })

    it('paths-info answers JSON (JS) and form (Python) bodies alike', async () => {
      const sha = await shaOf('model', MODEL, 'main')
      const url = `${hub.url}/api/models/${MODEL}/paths-info/main`
      const paths = ['config.json', LFS_PATH, 'nested', UNICODE_PATH, 'missing.txt']
      const fromJson = await fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ paths, expand: true }),
      }).then((r) => r.json() as Promise<{ path: string; type: string; lastCommit?: { id: string } }[]>)
      assert.deepEqual(
        fromJson.map((e) => [e.path, e.type]),
        [
          ['config.json', 'file'],
          [LFS_PATH, 'file'],
          ['nested', 'directory'],
          [UNICODE_PATH, 'file'],
        ],
      )
      assert.ok(fromJson.every((e) => e.lastCommit?.id === sha))
      const form = new URLSearchParams([
        ...paths.map((p): [string, string] => ['paths', p]),
        ['expand', 'True'],
      ])
      const fromForm = await fetch(url, { method: 'POST', body: form }).then((r) => r.json())
      assert.deepEqual(fromForm, fromJson)
      const plain = await fetch(url, { method: 'POST', body: new URLSearchParams({ paths: 'config.json' }) })
      assert.equal(((await plain.json()) as { lastCommit?: unknown }[])[0].lastCommit, undefined)
    })

    it('sees new branches at once and changed files after rescan()', async () => {
      const branch = join(fx.root, 'models', 'orgless', 'feature--x')
      await mkdir(branch)
      await writeFile(join(branch, 'a.txt'), 'a')
      const before = await getJson<{ sha: string; siblings: unknown[] }>(
        '/api/models/orgless/revision/feature%2Fx',
      )
      assert.equal(before.siblings.length, 1)
      await writeFile(join(branch, 'b.txt'), 'b')
      hub.rescan()
      const after = await getJson<{ sha: string; siblings: unknown[] }>(
        '/api/models/orgless/revision/feature%2Fx',
      )
      assert.equal(after.siblings.length, 2)
      assert.notEqual(after.sha, before.sha)
      await rm(branch, { recursive: true })
    })

    it('gives the same commit for the same content, across hub processes', async () => {
      const other = await startMockHub({ root: fx.root })
      try {
        await other.warm()
        const res = await fetch(`${other.url}/api/models/${MODEL}/revision/main`)
        assert.equal(((await res.json()) as { sha: string }).sha, await shaOf('model', MODEL, 'main'))
      } finally {
        await other.close()
      }
    })
  })

  describe('stats and knobs', () => {
    const cdnUrl = async (): Promise<string> =>
      String(
        (await rawRequest(`${hub.url}/${MODEL}/resolve/main/${LFS_PATH}`, { method: 'HEAD' })).headers
          .location,
      )

    it('counts only file-content bytes written, per file, and resets', async () => {
      const location = await cdnUrl()
      await rawRequest(`${hub.url}/_mock/reset`, { method: 'POST' })
      await rawRequest(location, { method: 'HEAD' })
      await rawRequest(`${hub.url}/api/models/${MODEL}/tree/main`)
      assert.equal(hub.stats().totalBytes, 0)
      await rawRequest(location)
      await rawRequest(location, { headers: { Range: 'bytes=0-99' } })
      const cfg = await pythonStyleHead(`${hub.url}/${MODEL}/resolve/main/config.json`)
      await rawRequest(cfg.finalUrl)
      const configSize = modelFiles('main').get('config.json')!.byteLength
      const stats = await getJson<ReturnType<MockHub['stats']>>('/_mock/stats')
      assert.deepEqual(stats, hub.stats())
      assert.equal(stats.totalBytes, LFS_SIZE + 100 + configSize)
      assert.deepEqual(stats.files, {
        [`model/${MODEL}/${LFS_PATH}`]: LFS_SIZE + 100,
        [`model/${MODEL}/config.json`]: configSize,
      })
      assert.ok(stats.requests.total >= 6)
      assert.equal(stats.requests.byRoute.cdn, 3)
      hub.resetStats()
      assert.equal(hub.stats().totalBytes, 0)
    })

    it('drop-after cuts the body short once, then serves whole', async () => {
      const location = await cdnUrl()
      hub.setOptions({ faults: ['drop-after:100000:1'] })
      const cut = await rawRequest(location)
      assert.equal(cut.complete, false)
      assert.equal(cut.body.byteLength, 100_000)
      assert.ok(cut.body.equals(lfsData().subarray(0, 100_000)))
      const whole = await rawRequest(location)
      assert.ok(whole.complete && whole.body.equals(lfsData()))
    })

    it('status:503:2 fails two file requests, then succeeds', async () => {
      const url = `${hub.url}/orgless/resolve/main/config.json`
      const res = await fetch(`${hub.url}/_mock/options`, {
        method: 'POST',
        body: JSON.stringify({ faults: ['status:503:2'] }),
      })
      assert.deepEqual(((await res.json()) as { faults: unknown }).faults, [
        { kind: 'status', status: 503, count: 2 },
      ])
      assert.equal((await pythonStyleHead(url)).first.status, 503)
      await getJson(`/api/models/orgless/revision/main`) // API calls are not file requests
      assert.equal((await rawRequest(url)).status, 503)
      assert.equal((await pythonStyleHead(url)).first.status, 200)
      assert.deepEqual(hub.faults(), [])
    })

    it('corrupt flips bytes but keeps the length', async () => {
      const location = await cdnUrl()
      hub.setOptions({ faults: [{ kind: 'corrupt', count: 1 }] })
      const bad = await rawRequest(location)
      assert.equal(bad.body.byteLength, LFS_SIZE)
      assert.ok(!bad.body.equals(lfsData()))
      assert.ok((await rawRequest(location)).body.equals(lfsData()))
    })

    it('holds the bandwidth limit across connections, and adds latency', async () => {
      const location = await cdnUrl()
      hub.setOptions({ rateBytesPerSec: 4_000_000 })
      const t0 = performance.now()
      const [a, b] = await Promise.all([
        rawRequest(location, { headers: { Range: 'bytes=0-999999' } }),
        rawRequest(location, { headers: { Range: 'bytes=1000000-1999999' } }),
      ])
      const seconds = (performance.now() - t0) / 1000
      assert.equal(a.body.byteLength + b.body.byteLength, 2_000_000)
      assert.ok(seconds >= 0.4, `2 MB at 4 MB/s took ${seconds.toFixed(3)} s`)

      hub.setOptions({ rateBytesPerSec: 0, latencyMs: 150 })
      const t1 = performance.now()
      await rawRequest(`${hub.url}/api/models/${MODEL}/revision/main`)
      assert.ok(performance.now() - t1 >= 140)
    })

    it('close() ends throttled transfers at once and can be called twice', async () => {
      const other = await startMockHub({ root: fx.root, rateBytesPerSec: 100_000 })
      const head = await rawRequest(`${other.url}/${MODEL}/resolve/main/${LFS_PATH}`, { method: 'HEAD' })
      const slow = rawRequest(String(head.headers.location))
      await new Promise((r) => setTimeout(r, 100))
      const t0 = performance.now()
      await Promise.all([other.close(), other.close()])
      assert.ok(performance.now() - t0 < 1000)
      const res = await slow.catch(() => null)
      assert.ok(res === null || !res.complete)
    })

    it('parses fault specs and rejects bad ones', () => {
      assert.deepEqual(parseFault('drop-after:10'), { kind: 'drop-after', bytes: 10, count: undefined })
      assert.deepEqual(parseFault('status:502:3'), { kind: 'status', status: 502, count: 3 })
      assert.deepEqual(parseFault('status:500'), { kind: 'status', status: 500, count: 1 })
      assert.deepEqual(parseFault('corrupt'), { kind: 'corrupt', count: undefined })
      for (const bad of ['status:200', 'drop-after', 'corrupt:x', 'explode']) {
        assert.throws(() => parseFault(bad), { name: 'InvalidFaultError' })
      }
    })
  })

  it('runs from the command line (npm run mock-hub)', async () => {
    const cli = join(import.meta.dirname, '../../scripts/mock-hub/cli.ts')
    const child = spawn(
      process.execPath,
      [cli, '--root', fx.root, '--port', '0', '--fault', 'status:503:1'],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    )
    try {
      const [line] = (await once(child.stdout, 'data')) as [Buffer]
      const url = /(http:\/\/127\.0\.0\.1:\d+)/.exec(line.toString())![1]
      await rawRequest(`${url}/api/models/${MODEL}/tree/main?recursive=true`) // starts Xet hashing
      const fileUrl = `${url}/orgless/resolve/main/config.json`
      assert.equal((await rawRequest(fileUrl)).status, 503)
      assert.equal((await rawRequest(fileUrl)).status, 200)
    } finally {
      child.kill('SIGTERM')
    }
    const [code] = (await once(child, 'exit')) as [number | null]
    assert.equal(code, 0)
  })
})
