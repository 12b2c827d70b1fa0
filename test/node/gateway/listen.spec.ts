import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:net'
import { join } from 'node:path'
import { startMockHub, type MockHub } from '../../../scripts/mock-hub/index.ts'
import { controlRequest, startDaemonCli, useDaemonHomes, type DaemonEnv } from '../../cli/daemon-helpers.ts'
import { writeMockBranch } from '../../helpers/mock-repos.ts'
import { runCli } from '../../helpers/run-cli.ts'
import { useTmpDir } from '../../helpers/tmp-dir.ts'
import { rawRequest } from './gateway-fixture.ts'

interface StatusJson {
  controlUrl: string
  gateway: string[]
}

/** The local addresses (as /proc/net/tcp writes them) listening on `port`. */
async function listeningOn(port: number): Promise<string[]> {
  const hex = port.toString(16).toUpperCase().padStart(4, '0')
  const table = (await readFile('/proc/net/tcp', 'utf8')) + (await readFile('/proc/net/tcp6', 'utf8'))
  return table
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f[1]?.endsWith(`:${hex}`) && f[3] === '0A')
    .map((f) => f[1])
}

describe('hffs-node start --gateway-listen: the gateway alone on an address of its own', function () {
  this.timeout(60_000)
  const tmp = useTmpDir()
  const homes = useDaemonHomes()
  let hub: MockHub
  const weights = randomBytes(300_000)

  beforeEach(async () => {
    const root = join(tmp(), 'mock')
    await writeMockBranch(root, 'models/org/m', 'main', {
      'w.safetensors': weights,
      'config.json': '{"a": 1}',
    })
    hub = await startMockHub({ root })
  })
  afterEach(async () => {
    await hub.close()
  })

  const env = (name: string): DaemonEnv & { HF_ENDPOINT: string } => ({
    ...homes(name),
    HF_ENDPOINT: hub.url,
    HF_TOKEN: '',
  })

  it('serves resolve, revision and tree there, never the control API, and reports its bound port', async () => {
    const e = env('a')
    const started = await startDaemonCli(e, ['--gateway-listen', '127.0.0.1:0'])
    assert.equal(started.code, 0, started.stderr)
    const status = JSON.parse((await runCli(['status', '--json'], e)).stdout) as StatusJson
    assert.equal(status.gateway.length, 2, JSON.stringify(status.gateway))
    assert.equal(status.gateway[0], status.controlUrl, 'the gateway stays on the control port too')
    const url = status.gateway[1]
    const port = Number(/^http:\/\/127\.0\.0\.1:(\d+)$/.exec(url)?.[1])
    assert.ok(port > 0 && url !== status.controlUrl, url)
    assert.match(started.stdout, new RegExp(`gateway\\s+${url}`))
    const info = JSON.parse(await readFile(join(e.HFFS_HOME, 'daemon.json'), 'utf8')) as { gateway: string[] }
    assert.deepEqual(info.gateway, status.gateway)
    assert.deepEqual(await listeningOn(port), [
      `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`,
    ])

    const sha256 = createHash('sha256').update(weights).digest('hex')
    const head = await rawRequest(`${url}/org/m/resolve/main/w.safetensors`, 'HEAD', {
      'accept-encoding': 'identity',
    })
    assert.equal(head.status, 200)
    assert.equal(head.headers.etag, `"${sha256}"`)
    const get = await rawRequest(`${url}/org/m/resolve/main/w.safetensors`, 'GET', { range: 'bytes=1000-' })
    assert.equal(get.status, 206)
    assert.ok(get.body.equals(weights.subarray(1000)))
    const rev = await rawRequest(`${url}/api/models/org/m/revision/main`, 'GET')
    assert.equal(rev.status, 200)
    assert.equal((JSON.parse(rev.body.toString()) as { sha: string }).sha, head.headers['x-repo-commit'])
    const tree = await rawRequest(`${url}/api/models/org/m/tree/main?recursive=true`, 'GET')
    assert.deepEqual(
      (JSON.parse(tree.body.toString()) as { path: string }[]).map((t) => t.path),
      ['config.json', 'w.safetensors'],
    )

    // The control API is not there, whatever the token: GET status, POST stop, peer and model routes.
    const token = (await readFile(join(e.HFFS_HOME, 'control.token'), 'utf8')).trim()
    const auth = { authorization: `Bearer ${token}` }
    for (const [method, path] of [
      ['GET', '/v1/status'],
      ['GET', '/v1/peers'],
      ['DELETE', '/v1/peers'],
      ['POST', '/v1/models/add'],
      ['POST', '/v1/stop'],
    ]) {
      const body = method === 'GET' ? undefined : '{}'
      const there = await rawRequest(`${url}${path}`, method, auth, body)
      assert.equal(there.status, 404, `${method} ${path}`)
      assert.equal(there.headers['x-error-code'], undefined)
      if (path === '/v1/stop') continue
      const control = await rawRequest(`${status.controlUrl}${path}`, method, auth, body)
      assert.notEqual(control.status, 404, `${method} ${path} is a control route on the control port`)
    }
    const still = await controlRequest(e.HFFS_HOME, 'GET', '/v1/status')
    assert.equal(still.status, 200, 'the daemon still runs, and its control API is on its own port')
    assert.equal((await runCli(['stop'], e)).code, 0)
  })

  it('refuses a bad --gateway-listen with one line and exit code 2, and a port in use with one line', async () => {
    const e = env('a')
    for (const bad of ['nope', '0.0.0.0', '1.2.3.4:65536', '::1:80']) {
      const r = await startDaemonCli(e, ['--gateway-listen', bad])
      assert.equal(r.code, 2, `${bad}: ${r.stderr}`)
      assert.equal(
        r.stderr,
        `hffs-node: --gateway-listen: "${bad}" is not HOST:PORT (e.g. 0.0.0.0:8080 or [::]:8080)\n`,
      )
      assert.ok(!existsSync(join(e.HFFS_HOME, 'daemon.json')), 'nothing started')
    }
    const taken: Server = createServer()
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve))
    const port = (taken.address() as { port: number }).port
    try {
      const r = await startDaemonCli(e, ['--gateway-listen', `127.0.0.1:${port}`])
      assert.equal(r.code, 1)
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
      assert.match(
        r.stderr,
        new RegExp(`gateway port ${port} is in use on 127\\.0\\.0\\.1; choose another with --gateway-listen`),
      )
      assert.ok(!existsSync(join(e.HFFS_HOME, 'daemon.json')), 'the daemon did not stay up')
    } finally {
      await new Promise<void>((resolve) => taken.close(() => resolve()))
    }
  })
})
