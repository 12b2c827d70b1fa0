import assert from 'node:assert/strict'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import {
  isLoopbackAddress,
  isLoopbackClient,
  offlineAccessDenial,
} from '../../../src/node/gateway/offline-access.ts'
import { RepoAccessBook, repoAccessPath } from '../../../src/node/gateway/repo-access.ts'
import { parseGatewayListenAddress } from '../../../src/node/gateway/listen-address.ts'
import { createLogger } from '../../../src/node/logger.ts'
import { loadNodeConfig } from '../../../src/node/node-config.ts'
import { useTmpDir } from '../../helpers/tmp-dir.ts'

const repo = { type: 'model', id: 'org/m' } as const
const quiet = createLogger('test', { sink: () => {} })

describe('gateway: --gateway-listen addresses', () => {
  const tmp = useTmpDir()

  it('parses HOST:PORT for IPv4, bracketed IPv6 and host names, and nothing else', () => {
    assert.deepEqual(parseGatewayListenAddress('0.0.0.0:8080'), { host: '0.0.0.0', port: 8080 })
    assert.deepEqual(parseGatewayListenAddress('[::]:0'), { host: '::', port: 0 })
    assert.deepEqual(parseGatewayListenAddress('[fe80::1%eth0]:9'), { host: 'fe80::1%eth0', port: 9 })
    assert.deepEqual(parseGatewayListenAddress('localhost:65535'), { host: 'localhost', port: 65535 })
    for (const bad of [
      '0.0.0.0',
      ':8080',
      '::1:80',
      '[::1]',
      '1.2.3.4:65536',
      '1.2.3:80',
      'a b:1',
      '[x]:1',
      'h:-1',
    ])
      assert.equal(parseGatewayListenAddress(bad), null, bad)
  })

  it('reads gatewayListen from config.json; the flag replaces it; absent means none', async () => {
    await writeFile(join(tmp(), 'config.json'), JSON.stringify({ gatewayListen: ['0.0.0.0:8080'] }))
    assert.deepEqual((await loadNodeConfig({ home: tmp(), env: {} })).gatewayListen, ['0.0.0.0:8080'])
    const flagged = await loadNodeConfig({ home: tmp(), flags: { gatewayListen: ['[::1]:0'] }, env: {} })
    assert.deepEqual(flagged.gatewayListen, ['[::1]:0'])
    const none = await loadNodeConfig({ home: join(tmp(), 'none'), env: {} })
    assert.deepEqual(none.gatewayListen ?? [], [])
    await assert.rejects(
      loadNodeConfig({ home: join(tmp(), 'none'), flags: { gatewayListen: ['x'] }, env: {} }),
      /^ConfigError: command line: "gatewayListen": "x" is not HOST:PORT/,
    )
  })
})

describe('gateway: who is served offline', () => {
  const tmp = useTmpDir()

  it('takes only connections over the loopback interface (both ends) for clients on this machine', () => {
    for (const a of ['127.0.0.1', '127.0.0.2', '::1', '::ffff:127.0.0.1', '0:0:0:0:0:0:0:1'])
      assert.ok(isLoopbackAddress(a), a)
    for (const a of ['10.0.0.1', '::ffff:10.0.0.1', '::', '0.0.0.0', 'fe80::1', '128.0.0.1', undefined])
      assert.ok(!isLoopbackAddress(a), String(a))
    assert.ok(isLoopbackClient({ remoteAddress: '127.0.0.1', localAddress: '127.0.0.1' }))
    assert.ok(!isLoopbackClient({ remoteAddress: '10.1.1.2', localAddress: '10.1.1.1' }))
    // From this machine to its own LAN address: not the loopback interface, so not the owner's client.
    assert.ok(!isLoopbackClient({ remoteAddress: '10.1.1.1', localAddress: '10.1.1.1' }))
  })

  it('serves a public repo to anyone, others only on loopback, a restricted one only when the node pulled it', () => {
    const decide = (
      access: 'public' | 'gated' | 'private' | null,
      loopback: boolean,
      origin: 'index' | 'peer' | 'cache',
    ): string => {
      const d = offlineAccessDenial({ repo, access, loopback, origin })
      return d === null ? 'served' : `${d.status} ${d.code}`
    }
    assert.equal(decide('public', false, 'peer'), 'served')
    assert.equal(decide('public', true, 'index'), 'served')
    assert.equal(decide(null, true, 'peer'), 'served')
    assert.equal(decide(null, false, 'index'), '401 RepoNotFound')
    assert.equal(decide('gated', true, 'index'), 'served')
    assert.equal(decide('gated', true, 'cache'), 'served')
    assert.equal(decide('gated', true, 'peer'), '401 GatedRepo')
    assert.equal(decide('gated', false, 'index'), '401 GatedRepo')
    assert.equal(decide('private', true, 'index'), 'served')
    assert.equal(decide('private', false, 'index'), '401 RepoNotFound')
    assert.equal(decide('private', true, 'peer'), '401 RepoNotFound')
  })

  it('learns each repo from the upstream answers and keeps it across restarts', async () => {
    const path = repoAccessPath(tmp())
    const book = new RepoAccessBook({ path, log: quiet })
    const other = { type: 'dataset', id: 'org/m' } as const
    const v = { status: 200, errorCode: null, withAuthorization: false, fileRoute: true }
    book.learnFromAnswer(repo, { ...v, withAuthorization: true })
    assert.equal(book.get(repo), null, 'allowed with a token says nothing of the others')
    book.learnFromAnswer(repo, { ...v, fileRoute: false })
    assert.equal(book.get(repo), null, "a gated repo's listings are open to anyone")
    book.learnFromAnswer(repo, v)
    assert.equal(book.get(repo), 'public')
    book.learnFromAnswer(repo, { ...v, status: 401, errorCode: 'GatedRepo' })
    assert.equal(book.get(repo), 'gated')
    book.learnFromAnswer(repo, { ...v, status: 401, errorCode: null }) // bad credentials: about the token
    assert.equal(book.get(repo), 'gated')
    book.learnFromInfo(other, { id: 'org/m', private: true, gated: false })
    assert.equal(book.get(other), 'private')
    book.learnFromInfo(other, { id: 'org/m', sha: 'x' })
    assert.equal(book.get(other), 'private', 'an answer without the fields changes nothing')
    await book.flushed()
    const again = new RepoAccessBook({ path, log: quiet })
    assert.equal(again.get(repo), 'gated')
    assert.equal(again.get(other), 'private')
    again.learnFromInfo(other, { private: false, gated: false })
    await again.flushed()
    const saved = JSON.parse(await readFile(path, 'utf8')) as { repos: Record<string, string> }
    assert.deepEqual(saved.repos, { 'model/org/m': 'gated', 'dataset/org/m': 'public' })
    await writeFile(path, '{not json')
    assert.equal(new RepoAccessBook({ path, log: quiet }).get(repo), null, 'a damaged file: nothing known')
  })
})
