import assert from 'node:assert/strict'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { createHffsNode, type HffsLibp2p } from '../../src/node/libp2p-node.ts'
import { loadNodeConfig } from '../../src/node/node-config.ts'
import { generateSwarmKey, loadSwarmKey, parseSwarmKey } from '../../src/node/swarm-key.ts'
import { useTmpDir } from '../helpers/tmp-dir.ts'

const oneLineConfigError = (pattern: RegExp) => (err: Error) =>
  err.name === 'ConfigError' && pattern.test(err.message) && !err.message.includes('\n')

describe('swarm key (private swarm)', function () {
  this.timeout(30_000)
  const tmp = useTmpDir()

  it('generates distinct keys in the libp2p pnet format, which parse back', () => {
    const a = generateSwarmKey()
    const b = generateSwarmKey()
    assert.match(a, /^\/key\/swarm\/psk\/1\.0\.0\/\n\/base16\/\n[0-9a-f]{64}\n$/)
    assert.notEqual(a, b)
    assert.equal(new TextDecoder().decode(parseSwarmKey(a, 'a')), a.trimEnd())
    // CRLF line ends and upper-case hex (files made elsewhere) are the same key.
    const crlf = a.replace(/\n/g, '\r\n').replace(/[0-9a-f]{64}/, (h) => h.toUpperCase())
    assert.deepEqual(parseSwarmKey(crlf, 'crlf'), parseSwarmKey(a, 'a'))
  })

  it('refuses anything else with one line naming the file', async () => {
    const good = generateSwarmKey().split('\n')
    const bad = [
      '',
      'hello',
      [good[0], good[1]].join('\n'),
      [good[0], '/base64/', good[2]].join('\n'),
      ['/key/swarm/psk/2.0.0/', good[1], good[2]].join('\n'),
      [good[0], good[1], good[2].slice(2)].join('\n'),
      [good[0], good[1], `${good[2].slice(1)}g`].join('\n'),
      [...good.slice(0, 3), 'extra'].join('\n'),
    ]
    for (const text of bad) {
      assert.throws(() => parseSwarmKey(text, 'k.key'), oneLineConfigError(/^k\.key: not a swarm key/))
    }
    await assert.rejects(
      loadSwarmKey(join(tmp(), 'missing.key')),
      oneLineConfigError(/missing\.key: cannot read it \(no such file\)/),
    )
    await assert.rejects(loadSwarmKey(tmp()), oneLineConfigError(/cannot read it \(EISDIR\)/))
  })

  it('is read from --swarm-key (relative to the working folder) or config.json (relative to HFFS_HOME)', async () => {
    const home = join(tmp(), 'home')
    await mkdir(home, { recursive: true })
    await writeFile(join(home, 'swarm.key'), generateSwarmKey())
    await writeFile(join(home, 'config.json'), JSON.stringify({ swarmKey: 'swarm.key' }))
    assert.equal((await loadNodeConfig({ home, env: {} })).swarmKey, join(home, 'swarm.key'))
    const flagged = await loadNodeConfig({ home, flags: { swarmKey: join(tmp(), 'home', 'swarm.key') } })
    assert.equal(flagged.swarmKey, join(home, 'swarm.key'))
    assert.equal((await loadNodeConfig({ home: join(tmp(), 'none'), env: {} })).swarmKey, undefined)

    await writeFile(join(home, 'config.json'), JSON.stringify({ swarmKey: 'nope.key' }))
    await assert.rejects(loadNodeConfig({ home, env: {} }), oneLineConfigError(/nope\.key: cannot read it/))
    await writeFile(join(home, 'config.json'), JSON.stringify({ swarmKey: 42 }))
    await assert.rejects(
      loadNodeConfig({ home, env: {} }),
      oneLineConfigError(/"swarmKey" must be the path of a swarm key file, got 42/),
    )
    await writeFile(join(home, 'config.json'), '{}')
    await writeFile(join(home, 'bad.key'), 'not a key\n')
    await assert.rejects(
      loadNodeConfig({ home, flags: { swarmKey: join(home, 'bad.key') } }),
      oneLineConfigError(/bad\.key: not a swarm key/),
    )
  })

  describe('libp2p nodes on 127.0.0.1', () => {
    const nodes: HffsLibp2p[] = []
    afterEach(async () => {
      await Promise.all(nodes.splice(0).map((n) => n.stop()))
    })

    async function node(key: string | null): Promise<HffsLibp2p> {
      const n = await createHffsNode({
        privateKey: await generateKeyPair('Ed25519'),
        listen: ['/ip4/127.0.0.1/tcp/0'],
        mdns: false,
        swarmKey: key === null ? undefined : parseSwarmKey(key, 'test'),
      })
      nodes.push(n)
      return n
    }

    it('connect and talk with the same key; not at all without it or with another one', async () => {
      const key = generateSwarmKey()
      const a = await node(key)
      const b = await node(key)
      await b.dial(a.getMultiaddrs()[0], { signal: AbortSignal.timeout(10_000) })
      assert.ok((await b.services.ping.ping(a.peerId, { signal: AbortSignal.timeout(10_000) })) >= 0)
      assert.deepEqual(
        a.getPeers().map((p) => p.toString()),
        [b.peerId.toString()],
      )

      for (const outsider of [await node(null), await node(generateSwarmKey())]) {
        await assert.rejects(outsider.dial(a.getMultiaddrs()[0], { signal: AbortSignal.timeout(10_000) }))
        await assert.rejects(a.dial(outsider.getMultiaddrs()[0], { signal: AbortSignal.timeout(10_000) }))
        assert.equal(outsider.getConnections().length, 0)
      }
      // Let a half-open inbound attempt finish failing before counting a's connections.
      await new Promise((r) => setTimeout(r, 500))
      assert.deepEqual(
        a.getConnections().map((c) => c.remotePeer.toString()),
        [b.peerId.toString()],
      )
    })
  })
})
