import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createLab, removeStaleLabs, type Lab } from '../../scripts/lab/lab.ts'
import { writeMockBranch } from '../helpers/mock-repos.ts'
import { describeLab } from './lab-gate.ts'
import { LabSwarm, mib, sha256, waitUntil } from './lab-swarm.ts'

const MiB = 1024 * 1024
const MODELS = {
  lan: { repo: 'org/lan', bytes: randomBytes(16 * MiB) },
  crowd: { repo: 'org/crowd', bytes: randomBytes(32 * MiB) },
}
const FILE = 'model.safetensors'
const siteA = ['a1', 'a2', 'a3', 'a4']

describeLab('lab: one site, a LAN swarm (scenarios 1-2)', function () {
  this.timeout(300_000)
  let lab: Lab
  let root = ''
  let swarm: LabSwarm
  let failed = false

  before(async function () {
    await removeStaleLabs()
    lab = await createLab({ hubRate: '100mbit' })
    root = await mkdtemp(join(tmpdir(), 'hffs-lab-lan-'))
    for (const m of Object.values(MODELS)) {
      await writeMockBranch(join(root, 'mock'), `models/${m.repo}`, 'main', {
        [FILE]: m.bytes,
        'config.json': '{}',
      })
    }
    swarm = new LabSwarm(lab, root)
    await swarm.startHub(join(root, 'mock'))
    // No peer configured anywhere: mDNS (in the lab's namespaces only) is all the hosts have.
    for (const host of siteA) await swarm.startDaemon(host, { mdns: true })
  })

  afterEach(function () {
    if (this.currentTest?.state === 'failed') failed = true
  })

  after(async function () {
    await swarm?.stopAll()
    await lab?.destroy()
    if (root === '') return
    if (failed || process.env.HFFS_LAB_KEEP === '1') console.log(`      daemon logs kept in ${root}/logs`)
    else await rm(root, { recursive: true, force: true })
  })

  it('1. LAN auto-discovery: three hosts find the fourth by mDNS and pull its model; the Hub serves 0 bytes', async function () {
    const m = MODELS.lan
    const first = await swarm.modelAdd('a1', m.repo)
    assert.ok(first.bytesFromHub >= m.bytes.length, 'a1 gets the model from the Hub')
    const a1 = swarm.daemons.get('a1')?.peerId
    const t0 = Date.now()
    for (const host of siteA.slice(1)) {
      await waitUntil(`${host} finds a1 by mDNS`, 60_000, async () => {
        const peers = await swarm.peers(host)
        return peers.some((p) => p.peerId === a1 && p.connected && p.sources.includes('mdns'))
          ? true
          : undefined
      })
    }
    const discoveryMs = Date.now() - t0
    await swarm.resetHubStats()
    const t1 = Date.now()
    const results = await Promise.all(siteA.slice(1).map((host) => swarm.modelAdd(host, m.repo)))
    const ms = Date.now() - t1
    const served = await swarm.hubContentBytes()
    console.log(
      `      1: mDNS found a1 from a2-a4 within ${discoveryMs} ms; 3 pulls of ${mib(m.bytes.length)} in ${ms} ms ` +
        `(${results.map((r) => r.ms).join(', ')} ms), ${results.map((r) => mib(r.bytesFromPeers)).join(', ')} from peers; ` +
        `Hub content bytes ${served}`,
    )
    assert.equal(served, 0)
    for (const r of results) {
      assert.equal(r.bytesFromHub, 0)
      assert.ok(r.bytesFromPeers >= m.bytes.length)
    }
    for (const host of siteA) assert.equal(await swarm.fileHash(host, m.repo, FILE), sha256(m.bytes))
  })

  it('2. flash crowd: four hosts pull a model only the Hub has, at once; the Hub serves it about once', async function () {
    const m = MODELS.crowd
    await swarm.resetHubStats()
    const t0 = Date.now()
    const results = await Promise.all(siteA.map((host) => swarm.modelAdd(host, m.repo)))
    const ms = Date.now() - t0
    const served = await swarm.hubContentBytes()
    console.log(
      `      2: 4 pulls of ${mib(m.bytes.length)} in ${ms} ms (${results.map((r) => r.ms).join(', ')} ms); ` +
        `Hub served ${mib(served)} (${(served / m.bytes.length).toFixed(2)}x); from the Hub per host ` +
        `${results.map((r) => mib(r.bytesFromHub)).join(', ')}`,
    )
    assert.ok(served >= m.bytes.length, `the Hub served only ${served} bytes`)
    assert.ok(served <= 1.2 * m.bytes.length, `the Hub served ${served} bytes for ${m.bytes.length}`)
    for (const host of siteA) assert.equal(await swarm.fileHash(host, m.repo, FILE), sha256(m.bytes))
  })
})
