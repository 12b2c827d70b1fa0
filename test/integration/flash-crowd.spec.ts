import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { startMockHub, type MockHub } from '../../scripts/mock-hub/index.ts'
import { startDaemonCli, useDaemonHomes, type DaemonEnv } from '../cli/daemon-helpers.ts'
import { writeMockBranch } from '../helpers/mock-repos.ts'
import { runCli } from '../helpers/run-cli.ts'
import { useTmpDir } from '../helpers/tmp-dir.ts'

describe('flash crowd: 4 nodes want a blob only the Hub has, at once', function () {
  this.timeout(180_000)
  const tmp = useTmpDir()
  const home = useDaemonHomes()
  let hub: MockHub
  const weights = randomBytes(64 * 1024 * 1024)

  beforeEach(async () => {
    await writeMockBranch(join(tmp(), 'mock'), 'models/org/m', 'main', {
      'model.safetensors': weights,
      'config.json': '{}',
    })
    // Slow enough that the four pulls overlap for seconds.
    hub = await startMockHub({ root: join(tmp(), 'mock'), rateBytesPerSec: 40_000_000 })
    await hub.warm()
  })
  afterEach(async () => {
    await hub.close()
  })

  it('the Hub serves the blob about once, and every copy is byte-identical', async () => {
    const nodes: { env: DaemonEnv; port: number }[] = []
    for (const name of ['n1', 'n2', 'n3', 'n4']) {
      const env = { ...home(name), HF_ENDPOINT: hub.url, HF_TOKEN: '' }
      assert.equal((await startDaemonCli(env)).code, 0)
      const status = JSON.parse((await runCli(['status', '--json'], env)).stdout) as { listen: string[] }
      const addr = status.listen.find((a) => a.startsWith('/ip4/127.0.0.1/tcp/')) as string
      nodes.push({ env, port: Number(addr.split('/')[4]) })
    }
    // A LAN where everyone sees everyone (what mDNS gives).
    for (let i = 0; i < nodes.length; i++) {
      for (let j = i + 1; j < nodes.length; j++) {
        const r = await runCli(['peer', 'add', '127.0.0.1', '--port', String(nodes[j].port)], nodes[i].env)
        assert.equal(r.code, 0, r.stderr)
      }
    }
    hub.resetStats()
    const t0 = Date.now()
    const results = await Promise.all(
      nodes.map((n) => runCli(['model', 'add', 'org/m', '--json'], n.env, 150_000)),
    )
    for (const r of results) assert.equal(r.code, 0, r.stderr)
    const served = hub.stats().totalBytes
    console.log(`      pulls took ${Date.now() - t0} ms; Hub served ${served} bytes`)
    const perNode = results.map(
      (r) => JSON.parse(r.stdout) as { bytesFromHub: number; bytesFromPeers: number },
    )
    assert.ok(
      served <= 1.2 * weights.byteLength,
      `the Hub served ${served} bytes for a ${weights.byteLength}-byte blob: ${JSON.stringify(perNode)}`,
    )
    for (const n of nodes) {
      const path = (
        await runCli(['model', 'ls', '--repo-id', 'org/m', '--file', 'model.safetensors'], n.env)
      ).stdout.trim()
      assert.ok(Buffer.from(await readFile(path)).equals(weights))
    }
  })
})
