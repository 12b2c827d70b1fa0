import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { readFile, readdir, writeFile } from 'node:fs/promises'
import { connect as tcpConnect } from 'node:net'
import { join } from 'node:path'
import { startMockHub, type MockHub } from '../../scripts/mock-hub/index.ts'
import { useDaemonHomes } from '../cli/daemon-helpers.ts'
import { writeMockBranch } from '../helpers/mock-repos.ts'
import { runCli, type CliResult } from '../helpers/run-cli.ts'
import { useTmpDir } from '../helpers/tmp-dir.ts'
import { modelAdd, startNode, type PullResultJson, type SwarmNode } from './swarm-nodes.ts'

interface PeerLs {
  peerId: string
  connected: boolean
  trust: string | null
}

const OFFLINE = ['--quiet']

describe('trust: private swarms, trusted peers, gated repos (real daemons on 127.0.0.1)', function () {
  this.timeout(240_000)
  const tmp = useTmpDir()
  const home = useDaemonHomes()
  let hub: MockHub
  const weights = randomBytes(2 * 1024 * 1024 + 5)
  const secret = randomBytes(1024 * 1024 + 3)

  beforeEach(async () => {
    const root = join(tmp(), 'mock')
    await writeMockBranch(root, 'models/org/m', 'main', {
      'model.safetensors': weights,
      'config.json': '{"a": 1}',
    })
    await writeMockBranch(root, 'models/org/gated', 'main', {
      'model.safetensors': secret,
      'config.json': '{"g": 1}',
    })
    await writeFile(join(root, 'models/org/gated/.mock.json'), JSON.stringify({ gated: true }))
    hub = await startMockHub({ root, tokens: ['hf_x'] })
  })
  afterEach(async () => {
    await hub.close()
  })

  async function node(name: string, extra: string[] = []): Promise<SwarmNode> {
    const env = { ...home(name), HF_ENDPOINT: hub.url, HF_TOKEN: '', HF_HUB_OFFLINE: '' }
    return startNode(env, extra)
  }

  function peerAdd(from: SwarmNode, to: SwarmNode, extra: string[] = []): Promise<CliResult> {
    return runCli(['peer', 'add', '127.0.0.1', '--port', String(to.libp2pPort), ...extra], from.env)
  }

  async function peers(n: SwarmNode): Promise<PeerLs[]> {
    const r = await runCli(['peer', 'ls', '--json'], n.env)
    assert.equal(r.code, 0, r.stderr)
    return JSON.parse(r.stdout) as PeerLs[]
  }

  const offline = (n: SwarmNode, repo: string, extra: string[] = OFFLINE): Promise<CliResult> =>
    runCli(['model', 'add', repo, ...extra], { ...n.env, HF_HUB_OFFLINE: '1' }, 150_000)

  /** The first bytes a listener sends to a TCP client that sends nothing, within `ms`. */
  function firstBytes(port: number, ms: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = []
      const socket = tcpConnect({ host: '127.0.0.1', port })
      const done = (): void => {
        socket.destroy()
        resolve(Buffer.concat(chunks))
      }
      socket.setTimeout(ms, done)
      socket.on('data', (c: Buffer) => chunks.push(c))
      socket.on('close', done)
      socket.on('error', reject)
    })
  }

  it('a private swarm: same key connects and pulls offline (trusted), no key or another key cannot connect', async () => {
    const keyFile = join(tmp(), 'swarm.key')
    const otherKey = join(tmp(), 'other.key')
    for (const file of [keyFile, otherKey]) {
      const r = await runCli(['swarm-key', 'generate'], {})
      assert.equal(r.code, 0, r.stderr)
      await writeFile(file, r.stdout)
    }
    const a = await node('a', ['--swarm-key', keyFile])
    const b = await node('b', ['--swarm-key', keyFile])
    const open = await node('open')
    const other = await node('other', ['--swarm-key', otherKey])
    await modelAdd(a, 'org/m')

    // On the wire: a keyed listener opens with its 24-byte pnet nonce, not with multistream-select.
    const hello = await firstBytes(a.libp2pPort, 3000)
    assert.ok(hello.length >= 24, `got ${hello.length} bytes`)
    assert.ok(!hello.includes(Buffer.from('/multistream/')), 'a keyed node does not speak in the clear')

    let r = await peerAdd(b, a)
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /: connected/)
    const seen = (await peers(b)).find((p) => p.peerId === a.peerId)
    assert.deepEqual([seen?.connected, seen?.trust], [true, 'swarm-key'])
    const pulled = JSON.parse((await offline(b, 'org/m', ['--json'])).stdout) as PullResultJson
    assert.equal(pulled.origin, 'peer', 'offline, the listing of a swarm member is believed')
    assert.ok(pulled.bytesFromPeers >= weights.length)

    for (const outsider of [open, other]) {
      r = await peerAdd(outsider, a)
      assert.notEqual(r.code, 0, r.stdout)
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
      assert.match(r.stderr, /could not reach \/ip4\/127\.0\.0\.1\/tcp\/\d+/)
      // And the other way round: the keyed node cannot reach the outsider either.
      r = await peerAdd(a, outsider)
      assert.notEqual(r.code, 0, r.stdout)
      assert.deepEqual(
        (await peers(outsider)).filter((p) => p.connected),
        [],
      )
    }
    const connectedToA = (await peers(a)).filter((p) => p.connected).map((p) => p.peerId)
    assert.deepEqual(connectedToA, [b.peerId])
    // An outsider's offline pull finds nobody to ask.
    r = await offline(open, 'org/m')
    assert.equal(r.code, 1)
    assert.match(r.stderr, /no peer or cache has this revision/)
  })

  it("offline, an untrusted peer's listing is refused; the same peer added with --trust is believed", async () => {
    const a = await node('a')
    const b = await node('b')
    await modelAdd(a, 'org/m')
    let r = await peerAdd(b, a)
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(
      (await peers(b)).map((p) => [p.peerId, p.connected, p.trust]),
      [[a.peerId, true, null]],
    )

    r = await offline(b, 'org/m')
    assert.equal(r.code, 1, r.stdout)
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
    assert.match(r.stderr, /^hffs-node: org\/m@main: only untrusted peers \(\S+\) can say which files/)
    assert.match(r.stderr, /peer add ADDR --trust/)
    const repoDirs = await readdir(b.env.HF_HUB_CACHE).catch(() => [] as string[])
    assert.ok(!repoDirs.includes('models--org--m'), 'nothing of the repo was written')

    r = await peerAdd(b, a, ['--trust'])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /\(trusted\)/)
    const saved = JSON.parse(await readFile(join(b.env.HFFS_HOME, 'peers.json'), 'utf8')) as {
      peers: { peerId: string; trusted?: boolean }[]
    }
    assert.deepEqual(
      saved.peers.map((p) => [p.peerId, p.trusted]),
      [[a.peerId, true]],
    )
    r = await runCli(['peer', 'ls'], b.env)
    assert.match(r.stdout, /TRUSTED/)
    assert.match(r.stdout, /yes \(manual\)/)
    const pulled = JSON.parse((await offline(b, 'org/m', ['--json'])).stdout) as PullResultJson
    assert.equal(pulled.origin, 'peer')
    assert.ok(pulled.bytesFromPeers >= weights.length)

    // Trust is kept across a restart of b (peers.json), and withdrawn by adding the peer again without it.
    assert.equal((await runCli(['stop'], b.env)).code, 0)
    const b2 = await startNode(b.env)
    await waitConnected(b2, a)
    assert.equal((await peers(b2)).find((p) => p.peerId === a.peerId)?.trust, 'manual')
    r = await peerAdd(b2, a)
    assert.equal(r.code, 0, r.stderr)
    assert.equal((await peers(b2)).find((p) => p.peerId === a.peerId)?.trust, null)
  })

  it('serves a gated repo only to peers it trusts; public repos to everyone', async () => {
    const a = await node('a')
    const stranger = await node('stranger')
    const friend = await node('friend')
    const token = { HF_TOKEN: 'hf_x' }
    let r = await runCli(['model', 'add', 'org/gated', '--quiet'], { ...a.env, ...token })
    assert.equal(r.code, 0, r.stderr)
    await modelAdd(a, 'org/m')
    // Both pullers believe a's listings; a trusts only the friend.
    for (const n of [stranger, friend]) assert.equal((await peerAdd(n, a, ['--trust'])).code, 0)
    r = await peerAdd(a, friend, ['--trust'])
    assert.equal(r.code, 0, r.stderr)

    // a answers the stranger as if it did not have the repo: no listing, no manifest.
    r = await offline(stranger, 'org/gated')
    assert.equal(r.code, 1, r.stdout)
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
    assert.match(r.stderr, /no peer or cache has this revision/)
    hub.resetStats()
    const fromHub = await modelAdd({ ...stranger, env: { ...stranger.env, ...token } }, 'org/gated')
    assert.equal(fromHub.origin, 'hub')
    assert.equal(fromHub.bytesFromPeers, 0, 'a sent no byte of the gated repo to a peer it does not trust')
    assert.ok(fromHub.bytesFromHub >= secret.length)
    // The public repo is served to the stranger all the same.
    const pub = await modelAdd(stranger, 'org/m')
    assert.ok(pub.bytesFromPeers >= weights.length, `from peers: ${pub.bytesFromPeers}`)

    // The trusted friend gets the gated repo from a, listing and bytes, with the Hub unreachable.
    r = await offline(friend, 'org/gated', ['--json'])
    assert.equal(r.code, 0, r.stderr)
    const friendPull = JSON.parse(r.stdout) as PullResultJson
    assert.equal(friendPull.origin, 'peer')
    assert.ok(friendPull.bytesFromPeers >= secret.length)
    const dir = join(friend.env.HF_HUB_CACHE, 'models--org--gated', 'snapshots', friendPull.commit)
    assert.ok((await readFile(join(dir, 'model.safetensors'))).equals(secret))
  })

  async function waitConnected(from: SwarmNode, to: SwarmNode): Promise<void> {
    const deadline = Date.now() + 30_000
    while (Date.now() < deadline) {
      if ((await peers(from)).some((p) => p.peerId === to.peerId && p.connected)) return
      await new Promise((res) => setTimeout(res, 300))
    }
    assert.fail(`${from.peerId} did not reconnect to ${to.peerId}`)
  }
})
