import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { readFile, readdir, readlink, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { snapshotDownload } from '@huggingface/hub'
import { startMockHub, type MockHub } from '../../../scripts/mock-hub/index.ts'
import { pullSnapshot } from '../../../src/node/pull/pull-snapshot.ts'
import type { HubConfig } from '../../../src/protocols/hub/hub-config.ts'
import { scanHubCache } from '../../../src/store/hf-cache/index.ts'
import { ShardIndex } from '../../../src/store/index-db/shard-index.ts'
import { readChunk } from '../../../src/store/read-chunk.ts'
import { hashToHex, initXet } from '../../../src/store/xet/index.ts'
import { writeMockBranch } from '../../helpers/mock-repos.ts'
import { useTmpDir } from '../../helpers/tmp-dir.ts'

const REPO = { type: 'model' as const, id: 'org/m' }

describe('pullSnapshot from the Hub (no peers)', () => {
  const tmp = useTmpDir()
  let hub: MockHub
  const weights = randomBytes(3 * 1024 * 1024 + 5)
  const weights2 = Buffer.concat([weights.subarray(0, 1_000_000), randomBytes(2_500_000)])
  const config = (): HubConfig => ({ endpoint: hub.url, token: null, offline: false })

  beforeEach(async () => {
    await initXet()
    const root = join(tmp(), 'mock')
    await writeMockBranch(root, 'models/org/m', 'main', {
      'model.safetensors': weights,
      'config.json': '{"hidden": 8}',
      'nested/dir/tokenizer.json': '{"v": 1}',
      'with space é.txt': 'unicode',
      empty: '',
    })
    await writeMockBranch(root, 'models/org/m', 'v2', {
      'model.safetensors': weights2,
      'config.json': '{"hidden": 8}',
      'nested/dir/tokenizer.json': '{"v": 2}',
    })
    hub = await startMockHub({ root })
  })
  afterEach(async () => {
    await hub.close()
  })

  async function pull(revision: string, extra: Partial<Parameters<typeof pullSnapshot>[0]> = {}) {
    return pullSnapshot({
      config: config(),
      cacheDir: join(tmp(), 'hub'),
      home: join(tmp(), 'home'),
      repo: REPO,
      revision,
      partSize: 1024 * 1024,
      ...extra,
    } as Parameters<typeof pullSnapshot>[0])
  }

  it('writes the same cache layout as @huggingface/hub snapshotDownload, byte-identical', async () => {
    const ours = join(tmp(), 'hub')
    const theirs = join(tmp(), 'theirs')
    const index = ShardIndex.open(join(tmp(), 'home', 'index.sqlite'))
    try {
      for (const rev of ['main', 'v2']) {
        await pull(rev, { index })
        await snapshotDownload({ repo: REPO.id, revision: rev, hubUrl: hub.url, cacheDir: theirs })
      }
    } finally {
      index.close()
    }
    const folder = 'models--org--m'
    assert.deepEqual(await listTree(join(ours, folder)), await listTree(join(theirs, folder)))
    const snap = (await scanHubCache(ours)).repos[0]
    assert.equal(snap.revisions.length, 2)
    const main = snap.revisions.find((r) => r.refs.includes('main'))
    const file = main?.files.find((f) => f.path === 'model.safetensors')
    assert.ok(Buffer.from(await readFile(file?.filePath as string)).equals(weights))
    assert.equal(await readFile(join(ours, folder, 'refs', 'main'), 'utf8'), main?.commit)
  })

  it('records manifests that serve chunks and match the Hub xetHash', async () => {
    const index = ShardIndex.open(join(tmp(), 'home', 'index.sqlite'))
    try {
      const result = await pull('main', { index })
      const w = result.files.find((f) => f.path === 'model.safetensors')
      const blob = index.getBlob(w?.etag as string)
      const tree = (await (await fetch(`${hub.url}/api/models/org/m/tree/main?recursive=true`)).json()) as {
        path: string
        xetHash?: string
      }[]
      assert.equal(
        hashToHex(blob?.xetHash as Uint8Array),
        tree.find((e) => e.path === 'model.safetensors')?.xetHash,
      )
      let offset = 0
      for (const c of index.getManifest(w?.etag as string) ?? []) {
        const bytes = await readChunk({ index, hash: c.hash })
        assert.ok(Buffer.from(bytes as Uint8Array).equals(weights.subarray(offset, offset + c.length)))
        offset += c.length
      }
      assert.equal(offset, weights.byteLength)
    } finally {
      index.close()
    }
  })

  it('downloads each blob once across revisions that share files', async () => {
    await pull('main')
    hub.resetStats()
    const r = await pull('v2')
    const fetched = r.files.filter((f) => f.downloaded).map((f) => f.path)
    assert.deepEqual(fetched.sort(), ['model.safetensors', 'nested/dir/tokenizer.json'])
    assert.equal(hub.stats().totalBytes, weights2.byteLength + '{"v": 2}'.length)
  })

  it('fetches only the named files, or those --include/--exclude select', async () => {
    const r = await pull('main', { files: ['config.json'] })
    assert.deepEqual(
      r.files.map((f) => f.path),
      ['config.json'],
    )
    const r2 = await pull('main', { include: ['nested/*', '*.json'], exclude: ['config*'] })
    assert.deepEqual(
      r2.files.map((f) => f.path),
      ['nested/dir/tokenizer.json'],
    )
  })

  it('survives dropped connections and 5xx answers, resuming ranges', async () => {
    hub.setOptions({ faults: ['drop-after:300000:4', 'status:503:3'] })
    const r = await pull('main')
    const w = r.files.find((f) => f.path === 'model.safetensors')
    const snap = join(tmp(), 'hub', 'models--org--m', 'snapshots', r.commit, 'model.safetensors')
    assert.ok(Buffer.from(await readFile(snap)).equals(weights))
    assert.ok(w?.downloaded)
    assert.ok(hub.stats().totalBytes < weights.byteLength * 1.5, 'resumes rather than restarting')
  })

  it('deletes a corrupted download and says so; nothing unverified becomes visible', async () => {
    hub.setOptions({ faults: ['corrupt'] })
    await assert.rejects(pull('main', { files: ['model.safetensors'] }), { name: 'IntegrityError' })
    const blobs = await readdir(join(tmp(), 'hub', 'models--org--m', 'blobs')).catch(() => [])
    assert.deepEqual(blobs, [])
    const snaps = await readdir(join(tmp(), 'hub', 'models--org--m', 'snapshots')).catch(() => [])
    assert.deepEqual(snaps, [])
  })

  it('names what is missing: repo, revision, file, an unreachable Hub', async () => {
    await assert.rejects(pull('main', { repo: { type: 'model', id: 'org/nope' } }), {
      name: 'RepoNotFoundError',
    })
    await assert.rejects(pull('nope'), { name: 'RevisionNotFoundError' })
    await assert.rejects(pull('main', { files: ['nope.bin'] }), { name: 'EntryNotFoundError' })
    await assert.rejects(
      pull('main', { config: { endpoint: 'http://127.0.0.1:9', token: null, offline: false } }),
      { name: 'HubUnreachableError' },
    )
  })

  it('works offline from what the cache holds, as huggingface_hub does', async () => {
    const online = await pull('main')
    const offline = { endpoint: 'http://127.0.0.1:9', token: null, offline: true }
    const r = await pull('main', { config: offline })
    assert.equal(r.commit, online.commit)
    assert.equal(r.files.length, 5)
    await assert.rejects(pull('v2', { config: offline }), { name: 'OfflineError' })
    await assert.rejects(pull('main', { config: offline, files: ['nope'] }), { name: 'OfflineError' })
  })
})

/** Every entry under a repo folder: files with sizes, links with targets, refs with contents. */
async function listTree(dir: string): Promise<string[]> {
  const out: string[] = []
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    const full = join(e.parentPath, e.name)
    const rel = full.slice(dir.length + 1)
    if (e.isSymbolicLink()) out.push(`${rel} -> ${await readlink(full)}`)
    else if (e.isFile()) out.push(`${rel} (${(await stat(full)).size})`)
    else if (!e.isDirectory()) out.push(`${rel} ?`)
  }
  return out.sort()
}
