import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:net'
import { join } from 'node:path'
import { randomCommit, writeFakeRepo } from '../helpers/fake-cache.ts'
import { DAEMON_NODE_FLAGS } from '../../src/node/spawn-daemon.ts'
import { BIN, runCli } from '../helpers/run-cli.ts'
import {
  START_ARGS,
  controlRequest,
  killDaemon,
  startDaemonCli,
  useDaemonHomes,
  waitFor,
} from './daemon-helpers.ts'

interface StatusJson {
  running: boolean
  pid: number
  peerId: string
  controlUrl: string
  listen: string[]
  uptimeSeconds: number
  connectedPeers: string[]
  blobs: { shared: number; chunks: number }
  indexing: { state: string; filesTotal: number }
  transfers: unknown[]
}

describe('hffs-node start / status / stop', function () {
  this.timeout(30_000)
  const daemonEnv = useDaemonHomes()

  it('starts detached, refuses a second daemon, stops, and then says not running', async () => {
    const env = daemonEnv('a')
    const started = await startDaemonCli(env)
    assert.equal(started.code, 0, started.stderr)
    const peerId = /peer id\s+(\S+)/.exec(started.stdout)?.[1]
    assert.ok(peerId?.startsWith('12D3KooW'), started.stdout)
    assert.match(started.stdout, /control\s+http:\/\/127\.0\.0\.1:\d+/)
    assert.match(started.stdout, /listening\s+\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\//)

    const status = await runCli(['status', '--json'], env)
    assert.equal(status.code, 0, status.stderr)
    const s = JSON.parse(status.stdout) as StatusJson
    assert.equal(s.running, true)
    assert.equal(s.peerId, peerId)
    assert.deepEqual(s.transfers, [])
    assert.deepEqual(s.connectedPeers, [])
    assert.equal(typeof s.uptimeSeconds, 'number')
    const cmdline = (await readFile(`/proc/${s.pid}/cmdline`, 'utf8')).split('\0')
    for (const flag of DAEMON_NODE_FLAGS)
      assert.ok(cmdline.includes(flag), `daemon runs without ${flag}: ${cmdline.join(' ')}`)
    const text = await runCli(['status'], env)
    assert.match(text.stdout, new RegExp(`peer id\\s+${peerId}`))

    const again = await startDaemonCli(env)
    assert.equal(again.code, 0, again.stderr)
    assert.match(again.stdout, new RegExp(`^already running \\(pid ${s.pid}, control ${s.controlUrl}`))

    const stopped = await runCli(['stop'], env)
    assert.equal(stopped.code, 0, stopped.stderr)
    assert.equal(stopped.stdout.trim(), `stopped (pid ${s.pid})`)
    assert.ok(!existsSync(join(env.HFFS_HOME, 'daemon.json')))
    assert.ok(!existsSync(join(env.HFFS_HOME, 'daemon.lock')))

    const after = await runCli(['status'], env)
    assert.equal(after.code, 3)
    assert.equal(after.stdout, 'not running\n')
    const peers = await runCli(['peer', 'ls'], env)
    assert.equal(peers.code, 3)
    assert.equal(peers.stderr, 'hffs-node: not running\n')
    const stopAgain = await runCli(['stop'], env)
    assert.equal(stopAgain.code, 0)
    assert.equal(stopAgain.stdout, 'not running\n')
  })

  it('start --foreground without the V8 flags runs the daemon with them, and one SIGTERM to the group stops it gracefully', async () => {
    const env = daemonEnv('fg')
    const [, ...args] = START_ARGS
    const wrapper = spawn(process.execPath, [BIN, 'start', '--foreground', ...args], {
      env: { ...process.env, ...env },
      detached: true, // its own process group, as under a terminal or a service manager
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    wrapper.stdout.on('data', (d: Buffer) => (output += d.toString()))
    wrapper.stderr.on('data', (d: Buffer) => (output += d.toString()))
    const exited = new Promise<number | null>((resolve) => wrapper.on('exit', (code) => resolve(code)))
    try {
      const info = await waitFor('daemon.json', 20_000, async () => {
        const text = await readFile(join(env.HFFS_HOME, 'daemon.json'), 'utf8').catch(() => undefined)
        return text === undefined ? undefined : (JSON.parse(text) as { pid: number })
      })
      assert.notEqual(info.pid, wrapper.pid, 'the daemon runs as a child with its flags')
      const cmdline = (await readFile(`/proc/${info.pid}/cmdline`, 'utf8')).split('\0')
      for (const flag of DAEMON_NODE_FLAGS) assert.ok(cmdline.includes(flag), cmdline.join(' '))
      // The group gets SIGTERM, and the wrapper forwards it: the daemon sees it twice, as one.
      process.kill(-(wrapper.pid as number), 'SIGTERM')
      assert.equal(await exited, 0, output)
      assert.match(output, /SIGTERM: stopping/)
      assert.doesNotMatch(output, /exiting now/)
    } finally {
      try {
        process.kill(-(wrapper.pid as number), 'SIGKILL')
      } catch {
        // already gone
      }
    }
  })

  it('keeps its peer id across a crash and a restart, with peer.key and control.token mode 0600', async () => {
    const env = daemonEnv('a')
    assert.equal((await startDaemonCli(env)).code, 0)
    const first = JSON.parse((await runCli(['status', '--json'], env)).stdout) as StatusJson
    // A crash leaves daemon.json and daemon.lock behind: clients see through them, a new start takes over.
    await killDaemon(env.HFFS_HOME)
    assert.ok(existsSync(join(env.HFFS_HOME, 'daemon.json')))
    const stale = await runCli(['status'], env)
    assert.deepEqual([stale.code, stale.stdout], [3, 'not running\n'])
    assert.equal((await startDaemonCli(env)).code, 0)
    const second = JSON.parse((await runCli(['status', '--json'], env)).stdout) as StatusJson
    assert.equal(second.peerId, first.peerId)
    assert.notEqual(second.pid, first.pid)
    for (const file of ['peer.key', 'control.token']) {
      assert.equal((await stat(join(env.HFFS_HOME, file))).mode & 0o777, 0o600, file)
    }
  })

  it('answers 401 without the token and listens on 127.0.0.1 only', async () => {
    const env = daemonEnv('a')
    assert.equal((await startDaemonCli(env)).code, 0)
    const none = await controlRequest(env.HFFS_HOME, 'GET', '/v1/status', { token: false })
    assert.equal(none.status, 401)
    assert.match((none.body as { error: string }).error, /unauthorized/)
    const wrong = await controlRequest(env.HFFS_HOME, 'GET', '/v1/status', { token: 'f'.repeat(64) })
    assert.equal(wrong.status, 401)
    const stop = await controlRequest(env.HFFS_HOME, 'POST', '/v1/stop', { token: false })
    assert.equal(stop.status, 401)
    const ok = await controlRequest(env.HFFS_HOME, 'GET', '/v1/status')
    assert.equal(ok.status, 200)

    const { port } = JSON.parse(await readFile(join(env.HFFS_HOME, 'daemon.json'), 'utf8')) as {
      port: number
    }
    // The listening socket in the kernel's table: local address 127.0.0.1 (0100007F), state LISTEN (0A).
    const hex = port.toString(16).toUpperCase().padStart(4, '0')
    const table = (await readFile('/proc/net/tcp', 'utf8')) + (await readFile('/proc/net/tcp6', 'utf8'))
    const listening = table
      .split('\n')
      .map((l) => l.trim().split(/\s+/))
      .filter((f) => f[1]?.endsWith(`:${hex}`) && f[3] === '0A')
      .map((f) => f[1])
    assert.deepEqual(listening, [`0100007F:${hex}`])
  })

  it('indexes the HF cache in the background and reports the blobs in status', async () => {
    const env = daemonEnv('a')
    await writeFakeRepo(env.HF_HUB_CACHE, 'models--org--m', randomCommit(), [
      { path: 'model.safetensors', data: randomBytes(300_000), lfs: true },
      { path: 'config.json', data: Buffer.from('{"a": 1}'), lfs: false },
      { path: 'tokenizer.json', data: Buffer.from('{"t": 2}'), lfs: false },
    ])
    assert.equal((await startDaemonCli(env)).code, 0)
    const s = await waitFor('indexing to finish', 20_000, async () => {
      const r = await controlRequest(env.HFFS_HOME, 'GET', '/v1/status')
      const body = r.body as StatusJson
      return body.indexing.state === 'done' ? body : undefined
    })
    assert.equal(s.blobs.shared, 3)
    assert.ok(s.blobs.chunks >= 3)
    const text = await runCli(['status'], env)
    assert.match(text.stdout, /blobs\s+3 shared/)
  })

  it('rejects an invalid config.json in one line, before starting anything', async () => {
    const env = daemonEnv('a')
    await mkdir(env.HFFS_HOME, { recursive: true })
    await writeFile(join(env.HFFS_HOME, 'config.json'), JSON.stringify({ port: 'nine', mdns: false }))
    const r = await runCli(['start', '--listen', '/ip4/127.0.0.1/tcp/0', '--no-mdns'], env)
    assert.equal(r.code, 1)
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
    assert.match(r.stderr, /config\.json: "port" must be a whole number from 0 to 65535, got "nine"/)
    assert.ok(!existsSync(join(env.HFFS_HOME, 'daemon.lock')))
  })

  it('prints the last log line when the detached daemon dies at start', async () => {
    const env = daemonEnv('a')
    const busy: Server = createServer()
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve))
    const port = (busy.address() as { port: number }).port
    try {
      const r = await runCli(
        ['start', '--port', String(port), '--listen', '/ip4/127.0.0.1/tcp/0', '--no-mdns'],
        env,
      )
      assert.equal(r.code, 1)
      assert.equal(
        r.stderr,
        `hffs-node: the daemon exited with code 1: control port ${port} is in use on 127.0.0.1; choose another with --port\n`,
      )
      assert.ok(!existsSync(join(env.HFFS_HOME, 'daemon.lock')))
    } finally {
      busy.close()
    }
  })
})
