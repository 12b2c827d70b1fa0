import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { runCli } from '../helpers/run-cli.ts'
import {
  controlRequest,
  libp2pPort,
  startDaemonCli,
  useDaemonHomes,
  waitFor,
  type DaemonEnv,
} from './daemon-helpers.ts'

interface PeerJson {
  peerId: string
  addresses: string[]
  sources: string[]
  connected: boolean
  latencyMs: number | null
}

interface StatusJson {
  peerId: string
  listen: string[]
  connectedPeers: string[]
}

async function statusOf(env: DaemonEnv): Promise<StatusJson> {
  const r = await runCli(['status', '--json'], env)
  assert.equal(r.code, 0, r.stderr)
  return JSON.parse(r.stdout) as StatusJson
}

async function peersOf(env: DaemonEnv): Promise<PeerJson[]> {
  const r = await controlRequest(env.HFFS_HOME, 'GET', '/v1/peers')
  assert.equal(r.status, 200)
  return r.body as PeerJson[]
}

/** Waits until `env`'s daemon has `peerId` in the wanted connection state. */
function waitConnected(env: DaemonEnv, peerId: string, connected: boolean, ms: number): Promise<PeerJson> {
  return waitFor(`${peerId} ${connected ? 'connected' : 'disconnected'}`, ms, async () => {
    const p = (await peersOf(env)).find((x) => x.peerId === peerId)
    return p !== undefined && p.connected === connected ? p : undefined
  })
}

describe('hffs-node peer add / ls / rm', function () {
  this.timeout(45_000)
  const daemonEnv = useDaemonHomes()
  let a: DaemonEnv
  let b: DaemonEnv
  let bId = ''
  let bPort = 0

  beforeEach(async () => {
    a = daemonEnv('a')
    b = daemonEnv('b')
    const [ra, rb] = await Promise.all([startDaemonCli(a), startDaemonCli(b)])
    assert.equal(ra.code, 0, ra.stderr)
    assert.equal(rb.code, 0, rb.stderr)
    const s = await statusOf(b)
    bId = s.peerId
    bPort = libp2pPort(s)
  })

  it('adds a peer by IP and port, lists it with its latency, keeps it across a restart, and removes it', async () => {
    const added = await runCli(['peer', 'add', '127.0.0.1', '--port', String(bPort)], a)
    assert.equal(added.code, 0, added.stderr)
    assert.match(
      added.stdout,
      new RegExp(`^added ${bId} at /ip4/127\\.0\\.0\\.1/tcp/${bPort}/p2p/${bId}: connected`),
    )

    const ls = await runCli(['peer', 'ls', '--json'], a)
    assert.equal(ls.code, 0, ls.stderr)
    const entry = (JSON.parse(ls.stdout) as PeerJson[]).find((p) => p.peerId === bId)
    assert.ok(entry !== undefined, ls.stdout)
    assert.equal(entry.connected, true)
    assert.deepEqual(entry.sources, ['manual'])
    assert.equal(typeof entry.latencyMs, 'number')
    assert.ok(entry.addresses.includes(`/ip4/127.0.0.1/tcp/${bPort}`), ls.stdout)
    const table = await runCli(['peer', 'ls'], a)
    assert.match(
      table.stdout,
      new RegExp(`^${bId}\\s+yes\\s+\\d+ ms\\s+manual\\s+no\\s+/ip4/127\\.0\\.0\\.1/tcp/${bPort}`, 'm'),
    )

    const file = JSON.parse(await readFile(join(a.HFFS_HOME, 'peers.json'), 'utf8')) as {
      peers: { addr: string; peerId: string }[]
    }
    assert.deepEqual(
      file.peers.map((p) => p.addr),
      [`/ip4/127.0.0.1/tcp/${bPort}/p2p/${bId}`],
    )

    // A restarted A dials its manual peers by itself.
    assert.equal((await runCli(['stop'], a)).code, 0)
    assert.equal((await startDaemonCli(a)).code, 0)
    const back = await waitConnected(a, bId, true, 10_000)
    assert.ok(back.sources.includes('manual'))

    const rm = await runCli(['peer', 'rm', '127.0.0.1'], a)
    assert.equal(rm.code, 0, rm.stderr)
    assert.equal(rm.stdout, `removed ${bId} (/ip4/127.0.0.1/tcp/${bPort}/p2p/${bId})\n`)
    const after = (await peersOf(a)).find((p) => p.peerId === bId)
    // B may call back on its own (its DHT keeps close peers), but A no longer holds B as manual.
    assert.ok(after === undefined || !after.sources.includes('manual'), JSON.stringify(after))
    const emptied = JSON.parse(await readFile(join(a.HFFS_HOME, 'peers.json'), 'utf8')) as {
      peers: unknown[]
    }
    assert.deepEqual(emptied.peers, [])
    const again = await runCli(['peer', 'rm', '127.0.0.1'], a)
    assert.equal(again.code, 1)
    assert.equal(again.stderr, 'hffs-node: no manual peer matches 127.0.0.1\n')
  })

  it('reconnects by itself to a manual peer that restarts on the same port', async () => {
    const added = await runCli(['peer', 'add', `/ip4/127.0.0.1/tcp/${bPort}/p2p/${bId}`], a)
    assert.equal(added.code, 0, added.stderr)
    assert.equal((await runCli(['stop'], b)).code, 0)
    await waitConnected(a, bId, false, 5_000)
    const restarted = await runCli(
      ['start', '--port', '0', '--listen', `/ip4/127.0.0.1/tcp/${bPort}`, '--no-mdns'],
      b,
    )
    assert.equal(restarted.code, 0, restarted.stderr)
    // Backoff 1 s, 2 s, 4 s, 8 s: A is back well within 15 s.
    const back = await waitConnected(a, bId, true, 15_000)
    assert.deepEqual(back.sources, ['manual'])
  })

  it('fails in one line when an IP and port do not answer', async () => {
    const probe = createServer()
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
    const port = (probe.address() as { port: number }).port
    await new Promise<void>((resolve) => probe.close(() => resolve()))
    const r = await runCli(['peer', 'add', '127.0.0.1', '--port', String(port)], a)
    assert.equal(r.code, 1)
    assert.match(r.stderr, new RegExp(`^hffs-node: could not reach /ip4/127\\.0\\.0\\.1/tcp/${port}: .+\\n$`))
    const missing = await runCli(['peer', 'add', '127.0.0.1'], a)
    assert.equal(missing.code, 1)
    assert.match(missing.stderr, /^hffs-node: give the peer's libp2p port: --port PORT/)
    assert.deepEqual(
      (await peersOf(a)).filter((p) => p.sources.includes('manual')),
      [],
    )
  })
})
