import assert from 'node:assert/strict'
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { mkdir, readFile, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { startMockHub, type MockHub } from '../../scripts/mock-hub/index.ts'
import { START_ARGS, controlRequest, useDaemonHomes, waitFor, type DaemonEnv } from '../cli/daemon-helpers.ts'
import { writeMockBranch } from '../helpers/mock-repos.ts'
import { BIN, type CliResult } from '../helpers/run-cli.ts'
import { useTmpDir } from '../helpers/tmp-dir.ts'
import { modelAdd, startNode, type PullResultJson as PullJson } from './swarm-nodes.ts'

const execFileAsync = promisify(execFile)

/** The filesystem that fills up: smaller than the model, larger than any one file of it. */
const TMPFS_SIZE = '48m'
const TMPFS_BIGGER = '160m'

/** Whether this process may create mount namespaces and mount a tmpfs in them. */
async function canUnshare(): Promise<string | null> {
  if (process.getuid?.() !== 0) return 'needs root (a tmpfs mounted in a mount namespace of its own)'
  for (const tool of ['unshare', 'nsenter']) {
    try {
      await execFileAsync(tool, ['--version'])
    } catch {
      return `needs ${tool} (util-linux)`
    }
  }
  return null
}

/**
 * A mount namespace holding a small tmpfs at `dir`, kept alive by a sleeping process: commands run inside it
 * through nsenter, and the test reads its files through /proc/<pid>/root. Killing the holder unmounts it.
 */
class TmpfsNamespace {
  readonly dir: string
  private readonly holder: ChildProcess

  private constructor(dir: string, holder: ChildProcess) {
    this.dir = dir
    this.holder = holder
  }

  static async create(dir: string, size: string): Promise<TmpfsNamespace> {
    await mkdir(dir, { recursive: true })
    const holder = spawn(
      'unshare',
      [
        '--mount',
        '--propagation',
        'private',
        'sh',
        '-c',
        `mount -t tmpfs -o size=${size} tmpfs "$0" && echo mounted && exec sleep 600`,
        dir,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    )
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the tmpfs was not mounted within 10 s')), 10_000)
      holder.stdout?.on('data', (d: Buffer) => {
        if (d.toString().includes('mounted')) {
          clearTimeout(timer)
          resolve()
        }
      })
      holder.on('exit', (code) => reject(new Error(`unshare exited with ${code}`)))
    })
    return new TmpfsNamespace(dir, holder)
  }

  /** `path` (under `dir`) as this process sees it: through the holder's root, inside the namespace. */
  seen(path: string): string {
    return `/proc/${this.holder.pid}/root${path}`
  }

  /** Runs a command inside the namespace. */
  run(cmd: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 120_000): Promise<CliResult> {
    return new Promise((resolve) => {
      execFile(
        'nsenter',
        ['-t', String(this.holder.pid), '-m', '--', ...cmd],
        { env: { ...process.env, ...env }, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 },
        (err, stdout, stderr) => {
          const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1
          resolve({ code, stdout, stderr })
        },
      )
    })
  }

  cli(args: string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
    return this.run([process.execPath, BIN, ...args], env)
  }

  async resize(size: string): Promise<void> {
    const r = await this.run(['mount', '-o', `remount,size=${size}`, this.dir])
    assert.equal(r.code, 0, r.stderr)
  }

  close(): void {
    this.holder.kill('SIGKILL')
  }
}

/** Every file under `dir` (as seen from here), relative paths; symlinks listed, not followed. */
async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = []
  const walk = async (rel: string): Promise<void> => {
    let entries
    try {
      entries = await readdir(join(dir, rel), { withFileTypes: true })
    } catch {
      return
    }
    for (const e of entries) {
      const path = rel === '' ? e.name : `${rel}/${e.name}`
      if (e.isDirectory()) await walk(path)
      else out.push(path)
    }
  }
  await walk('')
  return out.sort()
}

const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex')

describe('a pull into a filesystem that fills up (issue 8)', function () {
  this.timeout(240_000)
  const tmp = useTmpDir()
  let hub: MockHub | undefined
  let ns: TmpfsNamespace | undefined
  let leecherPid: number | undefined
  const home = useDaemonHomes()
  before(async function () {
    const why = await canUnshare()
    if (why !== null) {
      console.log(`      skipped: ${why}`)
      this.skip()
    }
  })
  afterEach(async () => {
    // The daemon inside the namespace lives in a home the test cannot reach by path: killed by its pid.
    if (leecherPid !== undefined) {
      try {
        process.kill(leecherPid, 'SIGKILL')
      } catch {
        // already gone
      }
      leecherPid = undefined
    }
    ns?.close()
    ns = undefined
    await hub?.close()
    hub = undefined
  })

  /** The mock Hub serving org/big: 2 × 30 MiB, which does not fit in 48 MiB; either one alone does. */
  async function serveBigModel(): Promise<{ hub: MockHub; files: Map<string, Buffer> }> {
    const files = new Map([
      ['a.safetensors', randomBytes(30 * 1024 * 1024)],
      ['b.safetensors', randomBytes(30 * 1024 * 1024)],
    ])
    const root = join(tmp(), 'mock')
    await writeMockBranch(root, 'models/org/big', 'main', {
      'config.json': '{"big": true}',
      ...Object.fromEntries(files),
    })
    hub = await startMockHub({ root })
    return { hub, files }
  }

  function envIn(disk: TmpfsNamespace, hubUrl: string): DaemonEnv {
    return {
      HFFS_HOME: join(disk.dir, 'home'),
      HF_HUB_CACHE: join(disk.dir, 'hub'),
      HF_HOME: join(disk.dir, 'hf'),
      HF_ENDPOINT: hubUrl,
      HF_TOKEN: '',
    }
  }

  /**
   * After the failed pull: one line of error, every visible blob whole, snapshots/ linking only whole
   * blobs, and the index readable (model ls) listing only whole blobs.
   */
  async function checkFailedPull(
    disk: TmpfsNamespace,
    env: DaemonEnv,
    full: CliResult,
    files: Map<string, Buffer>,
  ): Promise<void> {
    assert.equal(full.code, 1, `the pull failed: ${full.stdout}${full.stderr}`)
    // Progress lines aside, one line of error and no stack.
    const errors = full.stderr.split('\n').filter((l) => l.startsWith('hffs-node:'))
    assert.equal(errors.length, 1, full.stderr)
    assert.match(errors[0], /^hffs-node: disk full: /)
    assert.doesNotMatch(full.stderr, /^\s+at /m)

    const repo = disk.seen(join(env.HF_HUB_CACHE, 'models--org--big'))
    const etags = new Set([...files.values()].map(sha256))
    console.log(
      `      ${errors[0]}\n      left in blobs/: ${(await filesUnder(join(repo, 'blobs'))).join(', ')}`,
    )
    for (const name of await filesUnder(join(repo, 'blobs'))) {
      if (name.endsWith('.incomplete')) continue
      const data = await readFile(join(repo, 'blobs', name))
      if (name.length === 64) assert.equal(sha256(data), name, `blobs/${name} is whole`)
      else assert.equal(name.length, 40, `blobs/${name}: a small file named by its git sha1`)
    }
    for (const link of await filesUnder(join(repo, 'snapshots'))) {
      const data = await readFile(join(repo, 'snapshots', link)) // throws on a dangling link
      if (link.endsWith('.safetensors')) assert.ok(etags.has(sha256(data)), `snapshots/${link} is whole`)
    }
    const ls = await disk.cli(['model', 'ls', '--repo-id', 'org/big', '--json'], env)
    // The small files wait for the first large file's bytes: the disk may fill before any file of the repo
    // is whole, and then there is no snapshot to list, which `model ls` says in one line.
    if (ls.code === 1) {
      assert.match(ls.stderr.trim(), /^hffs-node: model org\/big is not in the cache at [^\n]+$/)
      return
    }
    assert.equal(ls.code, 0, ls.stderr)
    for (const etag of etags) {
      if (ls.stdout.includes(etag)) {
        const data = await readFile(join(repo, 'blobs', etag))
        assert.equal(sha256(data), etag, 'a blob the index lists is whole')
      }
    }
  }

  /** After space was freed, the same pull completes byte-identical and leaves no partial file. */
  async function checkRetry(
    disk: TmpfsNamespace,
    env: DaemonEnv,
    files: Map<string, Buffer>,
  ): Promise<PullJson> {
    await disk.resize(TMPFS_BIGGER)
    const again = await disk.cli(['model', 'add', 'org/big', '--json'], env)
    assert.equal(again.code, 0, again.stderr)
    const pulled = JSON.parse(again.stdout) as PullJson
    const repo = disk.seen(join(env.HF_HUB_CACHE, 'models--org--big'))
    const snap = join(repo, 'snapshots', pulled.commit)
    for (const [path, data] of files)
      assert.equal(sha256(await readFile(join(snap, path))), sha256(data), path)
    assert.equal(await readFile(join(snap, 'config.json'), 'utf8'), '{"big": true}')
    const leftovers = (await filesUnder(join(repo, 'blobs'))).filter((n) => n.endsWith('.incomplete'))
    assert.deepEqual(leftovers, [], 'no partial file left behind')
    const ls = await disk.cli(['model', 'ls', '--repo-id', 'org/big', '--json'], env)
    assert.equal(ls.code, 0, ls.stderr)
    for (const data of files.values())
      assert.ok(ls.stdout.includes(sha256(data)), 'the index lists every blob')
    return pulled
  }

  it('without a daemon, from the Hub: a one-line "disk full" error, nothing half-written, a later pull completes', async () => {
    const { hub, files } = await serveBigModel()
    const disk = await TmpfsNamespace.create(join(tmp(), 'disk'), TMPFS_SIZE)
    ns = disk
    const env = envIn(disk, hub.url)
    await checkFailedPull(disk, env, await disk.cli(['model', 'add', 'org/big'], env), files)
    await checkRetry(disk, env, files)
  })

  it('through a daemon, from a peer: the same, and the daemon keeps running', async () => {
    const { hub, files } = await serveBigModel()
    const seeder = await startNode({ ...home('seeder'), HF_ENDPOINT: hub.url, HF_TOKEN: '' })
    await modelAdd(seeder, 'org/big')
    const disk = await TmpfsNamespace.create(join(tmp(), 'disk'), TMPFS_SIZE)
    ns = disk
    const env = envIn(disk, hub.url)
    const started = await disk.cli(START_ARGS, env)
    assert.equal(started.code, 0, started.stdout + started.stderr)
    const home_ = disk.seen(env.HFFS_HOME)
    leecherPid = (JSON.parse(await readFile(join(home_, 'daemon.json'), 'utf8')) as { pid: number }).pid
    const added = await controlRequest(home_, 'POST', '/v1/peers', {
      body: { addr: '127.0.0.1', port: seeder.libp2pPort },
    })
    assert.equal(added.status, 201, JSON.stringify(added.body))
    await waitFor('connected to the seeder', 20_000, async () => {
      const peers = (await controlRequest(home_, 'GET', '/v1/peers')).body as {
        peerId: string
        connected: boolean
      }[]
      return peers.some((p) => p.peerId === seeder.peerId && p.connected) ? true : undefined
    })
    hub.resetStats()

    await checkFailedPull(disk, env, await disk.cli(['model', 'add', 'org/big'], env), files)
    const status = await controlRequest(home_, 'GET', '/v1/status')
    assert.equal(status.status, 200, 'the daemon still answers')
    const pulled = await checkRetry(disk, env, files)
    assert.ok(pulled.bytesFromPeers > 0, `bytes came from the peer: ${JSON.stringify(pulled)}`)
  })
})
