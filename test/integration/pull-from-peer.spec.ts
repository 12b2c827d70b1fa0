import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { execFile } from 'node:child_process'
import { open, readFile, readdir, rm } from 'node:fs/promises'
import { promisify } from 'node:util'
import { scanCacheDir } from '@huggingface/hub'
import { join } from 'node:path'
import { startMockHub, type MockHub } from '../../scripts/mock-hub/index.ts'
import { startDaemonCli, useDaemonHomes, type DaemonEnv } from '../cli/daemon-helpers.ts'
import { writeMockBranch } from '../helpers/mock-repos.ts'
import { runCli } from '../helpers/run-cli.ts'
import { useTmpDir } from '../helpers/tmp-dir.ts'

const execFileAsync = promisify(execFile)

interface PeerLs {
  peerId: string
  connected: boolean
}

describe('pulling a model from a peer (two real daemons on 127.0.0.1)', function () {
  this.timeout(120_000)
  const tmp = useTmpDir()
  const home = useDaemonHomes()
  let hub: MockHub
  const weights = randomBytes(6 * 1024 * 1024 + 11)
  const weights2 = Buffer.concat([weights.subarray(0, 5 * 1024 * 1024), randomBytes(1024 * 1024)])
  // Four requests' worth of chunks (MAX_BATCH_SIZE x ~64 KiB each): one bad chunk costs at most one request.
  const rotting = randomBytes(16 * 1024 * 1024 + 11)

  beforeEach(async () => {
    const root = join(tmp(), 'mock')
    await writeMockBranch(root, 'models/org/m', 'main', {
      'model.safetensors': weights,
      'config.json': '{"a": 1}',
      'sub dir/tokenizer.json': '{"t": true}',
    })
    await writeMockBranch(root, 'models/org/m', 'v2', {
      'model.safetensors': weights2,
      'config.json': '{"a": 2}',
    })
    await writeMockBranch(root, 'models/org/rot', 'main', { 'model.safetensors': rotting })
    hub = await startMockHub({ root })
  })
  afterEach(async () => {
    await hub.close()
  })

  async function daemon(name: string): Promise<{ env: DaemonEnv; libp2pPort: number; peerId: string }> {
    const env = { ...home(name), HF_ENDPOINT: hub.url, HF_TOKEN: '' }
    const r = await startDaemonCli(env)
    assert.equal(r.code, 0, r.stdout + r.stderr)
    const status = JSON.parse((await runCli(['status', '--json'], env)).stdout) as {
      peerId: string
      listen: string[]
    }
    const addr = status.listen.find((a) => a.startsWith('/ip4/127.0.0.1/tcp/')) as string
    return { env, libp2pPort: Number(addr.split('/')[4]), peerId: status.peerId }
  }

  async function connect(
    from: DaemonEnv,
    to: { libp2pPort: number; peerId: string },
    extra: string[] = [],
  ): Promise<void> {
    const r = await runCli(['peer', 'add', '127.0.0.1', '--port', String(to.libp2pPort), ...extra], from)
    assert.equal(r.code, 0, r.stderr)
    const peers = JSON.parse((await runCli(['peer', 'ls', '--json'], from)).stdout) as PeerLs[]
    assert.ok(peers.some((p) => p.peerId === to.peerId && p.connected))
  }

  it('gets every blob from the peer, verified, with the Hub serving no file bytes', async () => {
    const a = await daemon('a')
    const b = await daemon('b')
    let r = await runCli(['model', 'add', 'org/m', '--quiet'], a.env)
    assert.equal(r.code, 0, r.stderr)
    hub.resetStats()
    await connect(b.env, a)

    r = await runCli(['model', 'add', 'org/m', '--json'], b.env)
    assert.equal(r.code, 0, r.stderr)
    const result = JSON.parse(r.stdout) as {
      origin: string
      files: { path: string; source: string }[]
      bytesFromHub: number
    }
    assert.equal(result.origin, 'hub', 'the Hub is asked which blob is at which path')
    assert.deepEqual(
      result.files.map((f) => [f.path, f.source]),
      [
        ['config.json', 'peers'],
        ['model.safetensors', 'peers'],
        ['sub dir/tokenizer.json', 'peers'],
      ],
    )
    assert.equal(hub.stats().totalBytes, 0, 'no file content came from the Hub')
    const path = (
      await runCli(['model', 'ls', '--repo-id', 'org/m', '--file', 'model.safetensors'], b.env)
    ).stdout.trim()
    assert.ok(path.startsWith(b.env.HF_HUB_CACHE))
    assert.ok(Buffer.from(await readFile(path)).equals(weights))
  })

  it('pulls a 256 MiB repo byte-identical into a cache that @huggingface/hub scanCacheDir reads', async () => {
    const root = join(tmp(), 'mock')
    const big = randomBytes(256 * 1024 * 1024)
    await writeMockBranch(root, 'models/org/big', 'main', { 'weights.safetensors': big, 'config.json': '{}' })
    const a = await daemon('a')
    assert.equal((await runCli(['model', 'add', 'org/big', '--quiet'], a.env)).code, 0)
    const b = await daemon('b')
    await connect(b.env, a)
    hub.resetStats()
    const r = await runCli(['model', 'add', 'org/big', '--json'], b.env)
    assert.equal(r.code, 0, r.stderr)
    assert.equal(hub.stats().totalBytes, 0)
    const scan = await scanCacheDir(b.env.HF_HUB_CACHE)
    assert.deepEqual(scan.warnings, [])
    const repo = scan.repos.find((x) => x.id.name === 'org/big')
    assert.equal(repo?.size, big.byteLength + 2)
    const file = [...(repo?.revisions[0].files ?? [])].find((f) => f.path.endsWith('weights.safetensors'))
    assert.ok(Buffer.from(await readFile(file?.path as string)).equals(big))
  })

  it('keeps a wrong chunk from a peer out of the cache and finishes from the Hub', async () => {
    const a = await daemon('a')
    assert.equal((await runCli(['model', 'add', 'org/rot', '--quiet'], a.env)).code, 0)
    // Bit rot on A after it verified the blob: same size, same mtime, different bytes.
    const blobs = join(a.env.HF_HUB_CACHE, 'models--org--rot', 'blobs')
    const blob = join(blobs, (await readdir(blobs)).find((n) => n.length === 64) as string)
    // `touch -r` copies the timestamp to the nanosecond, so the size+mtime check cannot notice.
    await execFileAsync('cp', ['-p', blob, `${blob}.ref`])
    const fh = await open(blob, 'r+')
    await fh.write(Buffer.from('rot!'), 0, 4, 3 * 1024 * 1024)
    await fh.close()
    await execFileAsync('touch', ['-r', `${blob}.ref`, blob])
    await rm(`${blob}.ref`)

    const b = await daemon('b')
    await connect(b.env, a)
    hub.resetStats()
    const r = await runCli(['model', 'add', 'org/rot', '--json'], b.env)
    assert.equal(r.code, 0, r.stderr)
    const result = JSON.parse(r.stdout) as { bytesFromHub: number; bytesFromPeers: number }
    // What was left of the request holding the bad chunk is refetched from the Hub (a request is at most
    // MAX_BATCH_SIZE chunks, ~4 MiB here); the rest came from the peer.
    assert.ok(
      result.bytesFromHub > 0 && result.bytesFromHub < 5 * 1024 * 1024,
      `from the Hub: ${result.bytesFromHub}`,
    )
    assert.ok(result.bytesFromPeers > 11 * 1024 * 1024, `from the peer: ${result.bytesFromPeers}`)
    assert.match(
      await readFile(join(b.env.HFFS_HOME, 'daemon.log'), 'utf8'),
      /dropped peer \S+: \S+ sent bytes hashing to/,
    )
    const path = (
      await runCli(['model', 'ls', '--repo-id', 'org/rot', '--file', 'model.safetensors'], b.env)
    ).stdout.trim()
    assert.ok(Buffer.from(await readFile(path)).equals(rotting), 'only the right bytes reached the cache')
  })

  it('works with the Hub unreachable: the listing comes from the (trusted) peer', async () => {
    const a = await daemon('a')
    assert.equal((await runCli(['model', 'add', 'org/m', '--quiet'], a.env)).code, 0)
    const b = await daemon('b')
    await connect(b.env, a, ['--trust'])
    const r = await runCli(['model', 'add', 'org/m', '--json'], { ...b.env, HF_HUB_OFFLINE: '1' })
    assert.equal(r.code, 0, r.stderr)
    const result = JSON.parse(r.stdout) as { origin: string; bytesFromPeers: number }
    assert.equal(result.origin, 'peer')
    assert.ok(result.bytesFromPeers >= weights.byteLength)
  })

  it('fetches only the new chunks of a revision that shares most of its data', async () => {
    const a = await daemon('a')
    assert.equal((await runCli(['model', 'add', 'org/m', '--quiet'], a.env)).code, 0)
    assert.equal((await runCli(['model', 'add', 'org/m', '--revision', 'v2', '--quiet'], a.env)).code, 0)
    const b = await daemon('b')
    await connect(b.env, a)
    assert.equal((await runCli(['model', 'add', 'org/m', '--quiet'], b.env)).code, 0)
    const r = await runCli(['model', 'add', 'org/m', '--revision', 'v2', '--json'], b.env)
    assert.equal(r.code, 0, r.stderr)
    const result = JSON.parse(r.stdout) as { bytesFromPeers: number }
    assert.ok(
      result.bytesFromPeers < 1.5 * 1024 * 1024,
      `moved ${result.bytesFromPeers} bytes for a 1 MiB change`,
    )
  })

  it('falls back to the Hub when no peer has the blob, and says clearly when nothing can serve it', async () => {
    const a = await daemon('a')
    const b = await daemon('b')
    await connect(b.env, a)
    let r = await runCli(['model', 'add', 'org/m', '--json'], b.env)
    assert.equal(r.code, 0, r.stderr)
    assert.ok((JSON.parse(r.stdout) as { bytesFromHub: number }).bytesFromHub >= weights.byteLength)
    r = await runCli(['model', 'add', 'org/m', '--revision', 'v2', '--quiet'], {
      ...b.env,
      HF_HUB_OFFLINE: '1',
    })
    assert.equal(r.code, 1)
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
    assert.match(r.stderr, /HF_HUB_OFFLINE|no peer/)
  })
})
