import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { readFile, readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { downloadFileToCacheDir, snapshotDownload } from '@huggingface/hub'
import { startMockHub, type MockHub } from '../../scripts/mock-hub/index.ts'
import { startDaemonCli, useDaemonHomes, type DaemonEnv } from '../cli/daemon-helpers.ts'
import { writeMockBranch } from '../helpers/mock-repos.ts'
import { runCli } from '../helpers/run-cli.ts'
import { useTmpDir } from '../helpers/tmp-dir.ts'
import { startGatewayDaemon, type GatewayDaemon } from '../node/gateway/gateway-helpers.ts'
import { rawRequest } from '../node/gateway/gateway-fixture.ts'

interface PeerLs {
  peerId: string
  connected: boolean
}

describe('the HF-compatible gateway (real daemons on 127.0.0.1, @huggingface/hub as the client)', function () {
  this.timeout(120_000)
  const tmp = useTmpDir()
  const home = useDaemonHomes()
  let hub: MockHub
  let mockRoot = ''
  let debug: typeof console.debug
  before(() => {
    debug = console.debug
    console.debug = () => {} // @huggingface/hub logs every download
  })
  after(() => {
    console.debug = debug
  })
  const weights = randomBytes(6 * 1024 * 1024 + 11)
  const files: Record<string, Buffer> = {
    'model.safetensors': weights,
    'config.json': Buffer.from('{"a": 1}'),
    'sub dir/tokenizer.json': Buffer.from('{"t": true}'),
  }

  beforeEach(async () => {
    mockRoot = join(tmp(), 'mock')
    await writeMockBranch(mockRoot, 'models/org/m', 'main', files)
    hub = await startMockHub({ root: mockRoot, tokens: ['hf_granted', 'hf_other'] })
  })
  afterEach(async () => {
    await hub.close()
  })

  /** A seeder: a daemon started by the CLI, which pulled `repos` with `model add`. */
  async function seeder(
    name: string,
    repos: string[],
    extraEnv: NodeJS.ProcessEnv = {},
  ): Promise<SeederInfo> {
    const env = { ...home(name), HF_ENDPOINT: hub.url, HF_TOKEN: '', ...extraEnv }
    const r = await startDaemonCli(env)
    assert.equal(r.code, 0, r.stdout + r.stderr)
    for (const repo of repos) {
      const add = await runCli(['model', 'add', repo, '--quiet'], env)
      assert.equal(add.code, 0, add.stderr)
    }
    const status = JSON.parse((await runCli(['status', '--json'], env)).stdout) as {
      peerId: string
      listen: string[]
    }
    const addr = status.listen.find((a) => a.startsWith('/ip4/127.0.0.1/tcp/')) as string
    return { env, libp2pPort: Number(addr.split('/')[4]), peerId: status.peerId }
  }

  async function gateway(name: string): Promise<GatewayDaemon & { env: DaemonEnv }> {
    const env = { ...home(name), HF_ENDPOINT: hub.url }
    return { ...(await startGatewayDaemon(env)), env }
  }

  async function connect(from: DaemonEnv, to: SeederInfo, extra: string[] = []): Promise<void> {
    const r = await runCli(['peer', 'add', '127.0.0.1', '--port', String(to.libp2pPort), ...extra], from)
    assert.equal(r.code, 0, r.stderr)
    const peers = JSON.parse((await runCli(['peer', 'ls', '--json'], from)).stdout) as PeerLs[]
    assert.ok(peers.some((p) => p.peerId === to.peerId && p.connected))
  }

  async function assertSnapshot(dir: string, expected: Record<string, Buffer>): Promise<void> {
    const listed = (await readdir(dir, { recursive: true, withFileTypes: true }))
      .filter((e) => !e.isDirectory())
      .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
      .sort()
    assert.deepEqual(listed, Object.keys(expected).sort())
    for (const [path, bytes] of Object.entries(expected)) {
      assert.ok(Buffer.from(await readFile(join(dir, path))).equals(bytes), `${path} is byte-identical`)
    }
  }

  it('snapshotDownload and downloadFileToCacheDir get every blob from the peer: the upstream serves 0 bytes', async () => {
    const a = await seeder('a', ['org/m'])
    const b = await gateway('b')
    await connect(b.env, a)
    hub.resetStats()

    const snapshot = await snapshotDownload({
      repo: 'org/m',
      hubUrl: b.url,
      cacheDir: join(tmp(), 'client1'),
    })
    await assertSnapshot(snapshot, files)
    const one = await downloadFileToCacheDir({
      repo: 'org/m',
      path: 'sub dir/tokenizer.json',
      hubUrl: b.url,
      cacheDir: join(tmp(), 'client2'),
    })
    assert.ok(Buffer.from(await readFile(one)).equals(files['sub dir/tokenizer.json']))
    assert.equal(hub.stats().totalBytes, 0, 'no file content came from the upstream')

    // The blobs land in the gateway node's own cache too, so that it shares them from now on. A client
    // may have all its bytes a moment before the pull behind them has renamed the last blob into place.
    const blobsDir = join(b.env.HF_HUB_CACHE, 'models--org--m', 'blobs')
    const complete = async (): Promise<number> =>
      (await readdir(blobsDir)).filter((n) => !n.endsWith('.incomplete')).length
    for (let i = 0; i < 50 && (await complete()) < 3; i++) await new Promise((r) => setTimeout(r, 100))
    assert.equal(await complete(), 3)
  })

  it('gets what no peer has from the upstream, byte-identical, and keeps it in the node cache', async () => {
    const other = { 'big.bin': randomBytes(3 * 1024 * 1024), 'README.md': Buffer.from('# other\n') }
    await writeMockBranch(mockRoot, 'models/org/other', 'main', other)
    const a = await seeder('a', ['org/m'])
    const b = await gateway('b')
    await connect(b.env, a)
    hub.resetStats()
    const snapshot = await snapshotDownload({
      repo: 'org/other',
      hubUrl: b.url,
      cacheDir: join(tmp(), 'client'),
    })
    await assertSnapshot(snapshot, other)
    assert.equal(hub.stats().totalBytes, other['big.bin'].byteLength + other['README.md'].byteLength)
    // A second client is served from the gateway node's cache: no more upstream bytes.
    hub.resetStats()
    const again = await snapshotDownload({
      repo: 'org/other',
      hubUrl: b.url,
      cacheDir: join(tmp(), 'client2'),
    })
    await assertSnapshot(again, other)
    assert.equal(hub.stats().totalBytes, 0)
  })

  it('with the upstream gone, serves what the swarm has and answers the rest with a clean 504 at once', async () => {
    const a = await seeder('a', ['org/m'])
    const b = await gateway('b')
    // Offline, b takes the listing only from a peer it trusts.
    await connect(b.env, a, ['--trust'])
    await hub.close()

    const snapshot = await snapshotDownload({ repo: 'org/m', hubUrl: b.url, cacheDir: join(tmp(), 'client') })
    await assertSnapshot(snapshot, files)

    const started = Date.now()
    const unknown = await rawRequest(`${b.url}/org/unknown/resolve/main/config.json`, 'HEAD', {
      'accept-encoding': 'identity',
    })
    assert.equal(unknown.status, 504)
    assert.match(String(unknown.headers['x-error-message']), /cannot be reached/)
    const info = await rawRequest(`${b.url}/api/models/org/unknown/revision/main`, 'GET')
    assert.equal(info.status, 504)
    const missing = await rawRequest(`${b.url}/org/m/resolve/main/nope.bin`, 'GET', {})
    assert.ok(missing.status === 404 || missing.status === 504, `status ${missing.status}`)
    assert.ok(Date.now() - started < 5000, `answered in ${Date.now() - started} ms`)
  })

  it('checks a gated repo with the upstream using the client token: none → 401 and nothing served', async () => {
    const gated = { 'w.safetensors': randomBytes(1024 * 1024), 'config.json': Buffer.from('{"g": 1}') }
    await writeMockBranch(mockRoot, 'models/org/gated', 'main', gated)
    await writeFile(
      join(mockRoot, 'models/org/gated/.mock.json'),
      JSON.stringify({ gated: true, grantedTokens: ['hf_granted'] }),
    )
    const a = await seeder('a', ['org/gated'], { HF_TOKEN: 'hf_granted' })
    const b = await gateway('b')
    await connect(b.env, a)
    // a serves a gated repo only to peers it trusts.
    const bStatus = JSON.parse((await runCli(['status', '--json'], b.env)).stdout) as { listen: string[] }
    const bAddr = bStatus.listen.find((x) => x.startsWith('/ip4/127.0.0.1/tcp/')) as string
    const trusted = await runCli(['peer', 'add', bAddr, '--trust'], a.env)
    assert.equal(trusted.code, 0, trusted.stderr)
    hub.resetStats()

    const url = `${b.url}/org/gated/resolve/main/w.safetensors`
    const head = await rawRequest(url, 'HEAD', { 'accept-encoding': 'identity' })
    assert.equal(head.status, 401)
    assert.equal(head.headers['x-error-code'], 'GatedRepo')
    const get = await rawRequest(url, 'GET', { range: 'bytes=0-' })
    assert.equal(get.status, 401)
    assert.ok(!get.body.includes(gated['w.safetensors'].subarray(0, 64)))
    const denied = await rawRequest(url, 'GET', { authorization: 'Bearer hf_other' })
    assert.equal(denied.status, 403)
    assert.equal(denied.headers['x-error-code'], 'GatedRepo')
    await assert.rejects(
      snapshotDownload({ repo: 'org/gated', hubUrl: b.url, cacheDir: join(tmp(), 'anon') }),
      /restricted|401/,
    )
    const blobs = await readdir(join(b.env.HF_HUB_CACHE, 'models--org--gated', 'blobs')).catch(() => [])
    assert.deepEqual(blobs, [], 'the gateway pulled nothing for a client without access')

    const granted = await snapshotDownload({
      repo: 'org/gated',
      hubUrl: b.url,
      cacheDir: join(tmp(), 'granted'),
      accessToken: 'hf_granted',
    })
    await assertSnapshot(granted, gated)
    assert.equal(hub.stats().totalBytes, 0, 'with access, the bytes came from the peer')
  })

  it('with the upstream gone, serves a gated repo that only a peer pulled to no one, not even on loopback', async () => {
    const gated = { 'w.safetensors': randomBytes(256 * 1024) }
    await writeMockBranch(mockRoot, 'models/org/gated', 'main', gated)
    await writeFile(
      join(mockRoot, 'models/org/gated/.mock.json'),
      JSON.stringify({ gated: true, grantedTokens: ['hf_granted'] }),
    )
    await writeMockBranch(mockRoot, 'models/org/pub', 'main', { 'p.txt': 'public' })
    const a = await seeder('a', ['org/gated', 'org/pub'], { HF_TOKEN: 'hf_granted' })
    const b = await gateway('b')
    // Trusted, so that its listings count offline: even so, a gated repo this node never pulled is not served.
    await connect(b.env, a, ['--trust'])
    const url = `${b.url}/org/gated/resolve/main/w.safetensors`
    const head = { 'accept-encoding': 'identity' }
    assert.equal((await rawRequest(url, 'HEAD', head)).status, 401, 'the upstream shows it gated')
    await hub.close()

    for (const authorization of [undefined, 'Bearer hf_granted']) {
      const h: Record<string, string> = authorization === undefined ? head : { ...head, authorization }
      const res = await rawRequest(url, 'GET', h)
      assert.equal(res.status, 401, String(authorization))
      assert.equal(res.headers['x-error-code'], 'GatedRepo')
      assert.ok(!res.body.includes(gated['w.safetensors'].subarray(0, 64)))
    }
    // A repo the gateway never saw through the upstream: its trusted peer's listing serves the owner's machine.
    const pub = await rawRequest(`${b.url}/org/pub/resolve/main/p.txt`, 'GET', {})
    assert.equal(pub.status, 200)
    assert.equal(pub.body.toString(), 'public')
  })
})

interface SeederInfo {
  env: DaemonEnv
  libp2pPort: number
  peerId: string
}
