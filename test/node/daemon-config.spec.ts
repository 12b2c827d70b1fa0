import assert from 'node:assert/strict'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { loadNodeConfig, parseNodeConfig } from '../../src/node/node-config.ts'
import { useTmpDir } from '../helpers/tmp-dir.ts'

describe('node config', () => {
  const tmp = useTmpDir()

  it('has defaults when there is no config.json', async () => {
    const c = await loadNodeConfig({ home: join(tmp(), 'none'), env: {} })
    assert.deepEqual(c, {
      port: 9009,
      listen: ['/ip4/0.0.0.0/tcp/0'],
      bootstrap: [],
      mdns: true,
      chunkCacheBytes: 10_000_000_000,
      maxUploadRate: 0,
      maxDownloadRate: 0,
      relays: [],
      relayServer: false,
      relayMaxReservations: 128,
      relayMaxBytes: 0,
      relayMaxDurationMs: 0,
    })
  })

  it('reads config.json; flags override it; HFFS_CHUNK_CACHE_BYTES overrides the chunk cache size', async () => {
    await mkdir(tmp(), { recursive: true })
    await writeFile(
      join(tmp(), 'config.json'),
      JSON.stringify({
        port: 9100,
        listen: ['/ip4/127.0.0.1/tcp/4001'],
        bootstrap: ['/ip4/10.0.0.2/tcp/4001'],
        mdns: false,
        chunkCacheBytes: 1000,
      }),
    )
    const fromFile = await loadNodeConfig({ home: tmp(), env: {} })
    assert.equal(fromFile.port, 9100)
    assert.deepEqual(fromFile.bootstrap, ['/ip4/10.0.0.2/tcp/4001'])
    assert.equal(fromFile.mdns, false)
    assert.equal(fromFile.chunkCacheBytes, 1000)
    const flagged = await loadNodeConfig({
      home: tmp(),
      flags: { port: 0, listen: ['/ip4/127.0.0.1/tcp/0'], mdns: true, bootstrap: undefined },
      env: { HFFS_CHUNK_CACHE_BYTES: '5' },
    })
    assert.equal(flagged.port, 0)
    assert.deepEqual(flagged.listen, ['/ip4/127.0.0.1/tcp/0'])
    assert.deepEqual(flagged.bootstrap, ['/ip4/10.0.0.2/tcp/4001'])
    assert.equal(flagged.mdns, true)
    assert.equal(flagged.chunkCacheBytes, 5)
  })

  it('names the file and the field of a bad value, in one line', async () => {
    const bad: [unknown, RegExp][] = [
      [[], /src: must be a JSON object/],
      [{ port: 70000 }, /src: "port" must be a whole number from 0 to 65535, got 70000/],
      [{ listen: '/ip4/1.2.3.4/tcp/1' }, /"listen" must be a list of multiaddrs/],
      [{ listen: [] }, /"listen" needs at least one address/],
      [{ bootstrap: ['not an addr'] }, /"bootstrap": "not an addr" is not a multiaddr/],
      [{ mdns: 'yes' }, /"mdns" must be true or false, got "yes"/],
      [{ chunkCacheBytes: -1 }, /"chunkCacheBytes" must be a whole number of bytes/],
      [{ maxUploadRate: 1.5 }, /"maxUploadRate" must be a whole number of bytes/],
      [
        { prot: 1 },
        /unknown setting "prot" \(known: port, listen, bootstrap, mdns, chunkCacheBytes, maxUploadRate, maxDownloadRate, gatewayListen, swarmKey, relays, relayServer, relayMaxReservations, relayMaxBytes, relayMaxDurationMs\)/,
      ],
      [{ gatewayListen: '0.0.0.0:8080' }, /"gatewayListen" must be a list of HOST:PORT addresses/],
      [{ gatewayListen: ['0.0.0.0'] }, /"gatewayListen": "0.0.0.0" is not HOST:PORT/],
      [{ gatewayListen: ['::1:80'] }, /"gatewayListen": "::1:80" is not HOST:PORT/],
      [{ gatewayListen: ['1.2.3.4:65536'] }, /"gatewayListen": "1.2.3.4:65536" is not HOST:PORT/],
    ]
    for (const [raw, message] of bad) {
      assert.throws(
        () => parseNodeConfig(raw, 'src'),
        (err: Error) =>
          err.name === 'ConfigError' && message.test(err.message) && !err.message.includes('\n'),
        JSON.stringify(raw),
      )
    }
    await writeFile(join(tmp(), 'config.json'), '{"port": 1,')
    await assert.rejects(loadNodeConfig({ home: tmp(), env: {} }), /config\.json: not valid JSON/)
    await assert.rejects(
      loadNodeConfig({ home: join(tmp(), 'x'), flags: { listen: ['nope'] }, env: {} }),
      /command line: "listen": "nope" is not a multiaddr/,
    )
  })
})
