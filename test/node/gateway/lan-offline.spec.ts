import { spawnSync } from 'node:child_process'
import assert from 'node:assert/strict'
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { useDaemonHomes } from '../../cli/daemon-helpers.ts'
import { writeMockBranch } from '../../helpers/mock-repos.ts'
import { useTmpDir } from '../../helpers/tmp-dir.ts'
import { startGatewayDaemon } from './gateway-helpers.ts'

const MOCK_HUB_CLI = fileURLToPath(new URL('../../../scripts/mock-hub/cli.ts', import.meta.url))
/** The gateway's LAN address inside the test's own network namespace (no traffic leaves it). */
const LAN = '10.213.7.1'

function run(command: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: 30_000, encoding: 'buffer' }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1
      resolve({ code, stdout: stdout.toString('latin1'), stderr: stderr.toString() })
    })
  })
}

async function ip(...args: string[]): Promise<void> {
  const r = await run('ip', args)
  if (r.code !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`)
}

interface CurlAnswer {
  status: number
  headers: Record<string, string>
  body: Buffer
}

/** One request by curl inside the namespace; the answer's status, headers (lower-cased) and body. */
async function curlIn(
  ns: string,
  method: string,
  url: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<CurlAnswer> {
  const args = ['netns', 'exec', ns, 'curl', '-s', '-S', '--max-time', '20', '-D', '-', '-o', '-']
  args.push(method === 'HEAD' ? '-I' : '-X', ...(method === 'HEAD' ? [] : [method]))
  for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}: ${v}`)
  if (body !== undefined) args.push('--data-binary', body)
  args.push(url)
  const r = await run('ip', args)
  if (r.code !== 0) throw new Error(`curl ${method} ${url}: ${r.stderr}`)
  const raw = Buffer.from(r.stdout, 'latin1')
  const end = raw.indexOf('\r\n\r\n')
  const head = raw.subarray(0, end).toString('latin1').split('\r\n')
  const out: Record<string, string> = {}
  for (const line of head.slice(1)) {
    const i = line.indexOf(':')
    out[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim()
  }
  return { status: Number(head[0].split(' ')[1]), headers: out, body: raw.subarray(end + 4) }
}

describe('gateway: a gated repo with the upstream gone, for a LAN client and for the owner (network namespace)', function () {
  this.timeout(120_000)
  const tmp = useTmpDir()
  const homes = useDaemonHomes()
  const ns = `hffsgw${randomBytes(3).toString('hex')}`
  let hub: ChildProcess | null = null
  const weights = randomBytes(200_000)

  before(async function () {
    // Network namespaces need root, iproute2 and curl (the LAN client): without them, skip with one line.
    const missing = ['ip', 'curl'].filter(
      (tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0,
    )
    if (process.getuid?.() !== 0 || missing.length > 0) {
      console.log(
        `      skipped: needs root and ${['ip', 'curl'].join(', ')} (missing: ${missing.join(', ') || 'root'})`,
      )
      this.skip()
    }
    await ip('netns', 'add', ns)
    await ip('-n', ns, 'link', 'set', 'lo', 'up')
    await ip('-n', ns, 'link', 'add', 'lan0', 'type', 'veth', 'peer', 'name', 'lan1')
    await ip('-n', ns, 'addr', 'add', `${LAN}/24`, 'dev', 'lan0')
    await ip('-n', ns, 'link', 'set', 'lan0', 'up')
    await ip('-n', ns, 'link', 'set', 'lan1', 'up')
  })
  after(async () => {
    await run('ip', ['netns', 'del', ns])
  })
  afterEach(() => {
    hub?.kill('SIGKILL')
    hub = null
  })

  /** The mock Hub in the namespace, on its 127.0.0.1; resolves with its URL. */
  async function startHubIn(root: string): Promise<string> {
    const child = spawn(
      'ip',
      ['netns', 'exec', ns, process.execPath, MOCK_HUB_CLI, '--root', root, '--token', 'hf_granted'],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    )
    hub = child
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the mock Hub did not start')), 30_000)
      createInterface({ input: child.stdout as NodeJS.ReadableStream }).once('line', (line) => {
        clearTimeout(timer)
        const url = /listening on (http:\/\/\S+)/.exec(line)?.[1]
        if (url === undefined) reject(new Error(line))
        else resolve(url)
      })
    })
  }

  it('answers a LAN client 401 GatedRepo for what only the owner may have, and serves the owner and public repos', async () => {
    const root = join(tmp(), 'mock')
    await writeMockBranch(root, 'models/org/gated', 'main', { 'w.bin': weights, 'config.json': '{"g": 1}' })
    await writeFile(
      join(root, 'models/org/gated/.mock.json'),
      JSON.stringify({ gated: true, grantedTokens: ['hf_granted'] }),
    )
    await writeMockBranch(root, 'models/org/pub', 'main', { 'a.txt': 'public bytes' })
    const hubUrl = await startHubIn(root)
    const env = { ...homes('gw'), HF_ENDPOINT: hubUrl }
    await mkdir(env.HFFS_HOME, { recursive: true })
    await writeFile(join(env.HFFS_HOME, 'config.json'), JSON.stringify({ gatewayListen: [`${LAN}:0`] }))
    const gw = await startGatewayDaemon(env, { netns: ns })
    const lan = (gw.info.gateway ?? []).find((u) => u.startsWith(`http://${LAN}:`)) as string
    assert.ok(lan !== undefined, JSON.stringify(gw.info.gateway))
    const own = gw.url // the control port, 127.0.0.1 in the namespace

    // While the upstream answers, it checks access: the owner pulls with a granted token, anonymous is refused.
    const pulled = await curlIn(ns, 'GET', `${own}/org/gated/resolve/main/w.bin`, {
      authorization: 'Bearer hf_granted',
    })
    assert.equal(pulled.status, 200)
    assert.ok(pulled.body.equals(weights))
    const anon = await curlIn(ns, 'HEAD', `${lan}/org/gated/resolve/main/w.bin`)
    assert.equal(anon.status, 401)
    assert.equal(anon.headers['x-error-code'], 'GatedRepo')
    assert.equal((await curlIn(ns, 'GET', `${lan}/org/pub/resolve/main/a.txt`)).status, 200)

    hub?.kill('SIGKILL')
    await new Promise((r) => hub?.once('exit', r))
    const started = Date.now()

    // The upstream is gone: the LAN client gets the Hub's 401, with or without a token, and no bytes.
    for (const authorization of [undefined, 'Bearer hf_granted']) {
      const h: Record<string, string> = authorization === undefined ? {} : { authorization }
      const head = await curlIn(ns, 'HEAD', `${lan}/org/gated/resolve/main/w.bin`, {
        'accept-encoding': 'identity',
        ...h,
      })
      assert.equal(head.status, 401, String(authorization))
      assert.equal(head.headers['x-error-code'], 'GatedRepo')
      assert.match(head.headers['x-error-message'], /only to clients on its own machine/)
      assert.ok(head.headers['x-request-id'] !== undefined)
      const get = await curlIn(ns, 'GET', `${lan}/org/gated/resolve/main/w.bin`, { range: 'bytes=0-', ...h })
      assert.equal(get.status, 401)
      assert.ok(!get.body.includes(weights.subarray(0, 64)))
    }
    const listings: [string, string, string?][] = [
      ['GET', `${lan}/api/models/org/gated/revision/main`],
      ['GET', `${lan}/api/models/org/gated`],
      ['GET', `${lan}/api/models/org/gated/tree/main?recursive=true`],
      ['POST', `${lan}/api/models/org/gated/paths-info/main`, 'paths=w.bin'],
    ]
    for (const [method, url, body] of listings) {
      const res = await curlIn(ns, method, url, {}, body)
      assert.equal(res.status, 401, url)
      assert.equal(res.headers['x-error-code'], 'GatedRepo', url)
      assert.ok(!res.body.toString().includes('w.bin'), url)
    }
    // A public repo is served to anyone, and the owner's machine gets the gated one.
    const pub = await curlIn(ns, 'GET', `${lan}/org/pub/resolve/main/a.txt`)
    assert.equal(pub.status, 200)
    assert.equal(pub.body.toString(), 'public bytes')
    const mine = await curlIn(ns, 'GET', `${own}/org/gated/resolve/main/w.bin`)
    assert.equal(mine.status, 200)
    assert.ok(mine.body.equals(weights))
    const tree = await curlIn(ns, 'GET', `${own}/api/models/org/gated/tree/main`)
    assert.equal(tree.status, 200)
    assert.ok(Date.now() - started < 20_000, 'no waiting on the upstream')

    const book = JSON.parse(await readFile(join(env.HFFS_HOME, 'gateway-access.json'), 'utf8')) as {
      repos: Record<string, string>
    }
    assert.deepEqual(book.repos, { 'model/org/gated': 'gated', 'model/org/pub': 'public' })
  })
})
