/**
 * The timed transfers of the swarm benchmark: leechers pulling from seeder daemons, Helia's bitswap, and raw
 * libp2p streams.
 */
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { BenchDaemon } from './bench-daemon.ts'
import type { SourceRepo } from './bench-repos.ts'
import { LineChild } from './line-child.ts'
import { CpuMeter, vmBytes } from './proc-stats.ts'
import { runTimed, type TimedRun } from './timed-child.ts'
import { sha256File, SnapshotMismatchError, verifySnapshot } from './verify-snapshot.ts'

const HFFS_BIN = fileURLToPath(new URL('../../bin/hffs-node.js', import.meta.url))
const here = (name: string): string => fileURLToPath(new URL(name, import.meta.url))

/** One case's figures; CPU in seconds, sizes in bytes. */
export interface CaseFigures {
  seconds: number
  /** Bytes all leechers got, together. */
  bytes: number
  /** CPU of the leecher processes (the daemons, for ours), summed. */
  cpuLeechers: number
  cpuSeeders: number
  /** The largest peak RSS (VmHWM) among the leechers. */
  rssLeecherPeak: number
  /** Bytes the seeders sent: the leechers' `bytesByPeer` for them (ours), the bytes written (baselines). */
  bytesFromSeeders: number
  /**
   * What each seeder sent (to all leechers), in the order of the seeders. Ours: the leechers' `bytesByPeer`;
   * raw: each sender's share, whose sum the receiver's byte count checks.
   */
  bytesBySeeder?: number[]
  /** Ours only: each leecher's bytes by sending peer id. */
  bytesByPeer?: Record<string, number>[]
  /** Ours only: the timed interval on the clock of CPU profiles (`process.hrtime`), microseconds. */
  timedUs?: { from: number; to: number }
  /** Ours only: the leecher daemons' process ids (they name their CPU profiles). */
  leecherPids?: number[]
}

export interface SwarmContext {
  signal: AbortSignal
  timeoutMs: number
  /** A fresh leecher daemon under `dir` (with `--cpu-prof` when profiling). */
  startLeecher: (dir: string) => Promise<BenchDaemon>
  stopDaemon: (daemon: BenchDaemon) => Promise<void>
}

/** What `model add --json` prints (src/node/pull/pull-snapshot.ts PullResult), the parts read here. */
interface ModelAddJson {
  bytesFromHub: number
  bytesFromPeers: number
  bytesByPeer: Record<string, number>
}

/**
 * `leechers` fresh daemons each `peer add` every seeder and every other leecher (as a swarm would), then
 * all run `model add` at once; timed from the first start to the last exit. No byte may come from the Hub
 * or from a peer not added; every snapshot is checked byte for byte.
 */
export async function pullSwarm(
  ctx: SwarmContext,
  dir: string,
  seeders: BenchDaemon[],
  leechers: number,
  repo: SourceRepo,
): Promise<CaseFigures> {
  const { signal, timeoutMs } = ctx
  const started: BenchDaemon[] = []
  try {
    for (let i = 0; i < leechers; i++) started.push(await ctx.startLeecher(join(dir, `leecher-${i + 1}`)))
    for (const l of started) {
      for (const peer of [...seeders, ...started.filter((o) => o !== l)]) await addPeer(l, peer)
    }
    const cpu = new CpuMeter([...seeders, ...started].map((d) => d.pid))
    const t = performance.now()
    const from = hrtimeUs()
    const runs = await Promise.all(
      started.map((l, i): Promise<TimedRun> =>
        runTimed({
          what: `hffs-node model add (leecher ${i + 1})`,
          nodeArgs: [HFFS_BIN, 'model', 'add', repo.id, '--json'],
          env: { ...process.env, ...l.env },
          timeFile: join(dir, `time-${i + 1}.txt`),
          timeoutMs,
          signal,
        }),
      ),
    )
    const seconds = (performance.now() - t) / 1000
    const timedUs = { from, to: hrtimeUs() }
    const used = cpu.stop()
    const seederIds = new Set(seeders.map((s) => s.peerId))
    const byPeer: Record<string, number>[] = []
    for (const [i, l] of started.entries()) {
      const result = JSON.parse(runs[i].stdout) as ModelAddJson
      const allowed = new Set([...seederIds, ...started.filter((o) => o !== l).map((o) => o.peerId)])
      const strangers = Object.keys(result.bytesByPeer).filter((id) => !allowed.has(id))
      if (result.bytesFromHub !== 0 || result.bytesFromPeers < repo.bytes || strangers.length > 0) {
        throw new SnapshotMismatchError(
          `leecher ${i + 1}: ${result.bytesFromPeers} bytes from peers, ${result.bytesFromHub} from the Hub, ` +
            `from peers not added: [${strangers.join(', ')}]`,
        )
      }
      await verifySnapshot(l.cacheDir, repo)
      byPeer.push(result.bytesByPeer)
    }
    const bySeeder = seeders.map((sd) => sum(byPeer.map((b) => b[sd.peerId] ?? 0)))
    return {
      seconds,
      bytes: repo.bytes * leechers,
      cpuLeechers: sum(started.map((l) => used.get(l.pid) ?? 0)),
      cpuSeeders: sum(seeders.map((s) => used.get(s.pid) ?? 0)),
      rssLeecherPeak: Math.max(...started.map((l) => vmBytes(l.pid, 'VmHWM'))),
      bytesFromSeeders: sum(bySeeder),
      bytesBySeeder: bySeeder,
      bytesByPeer: byPeer,
      timedUs,
      leecherPids: started.map((l) => l.pid),
    }
  } finally {
    for (const l of started) await ctx.stopDaemon(l)
  }
}

async function addPeer(to: BenchDaemon, peer: BenchDaemon): Promise<void> {
  const out = await to.cli(['peer', 'add', '127.0.0.1', '--port', String(peer.libp2pPort), '--json'])
  const result = JSON.parse(out) as { connected: boolean; error?: string }
  if (!result.connected) throw new Error(`peer add ${peer.peerId}: not connected: ${result.error ?? ''}`)
}

/** A Helia seeder child (scripts/bench/helia-child.ts) and what it serves. */
export interface HeliaSeeder {
  child: LineChild
  addr: string
  cids: string[]
}

/**
 * A fresh Helia leecher dials every seeder (not timed), then fetches the files by CID with unixfs.cat over
 * bitswap, timed until the last byte is written; each file is checked against its sha256.
 */
export async function heliaFetch(
  ctx: SwarmContext,
  dir: string,
  seeders: HeliaSeeder[],
  files: { sha256: string; bytes: number }[],
): Promise<CaseFigures> {
  const { signal, timeoutMs } = ctx
  const { child: leecher } = await LineChild.start({
    what: 'helia leecher',
    nodeArgs: [here('./helia-child.ts'), '--role', 'leecher', '--dial', seeders.map((s) => s.addr).join(',')],
    ready: /^helia ready/,
    timeoutMs,
    signal,
  })
  try {
    const bytes = sum(files.map((f) => f.bytes))
    const seederPids = seeders.map((s) => s.child.pid)
    const run = await timedTransfer(
      ctx,
      'helia',
      leecher,
      seederPids,
      `go ${dir} ${seeders[0].cids.join(',')}`,
      bytes,
    )
    for (const [i, f] of files.entries()) {
      const got = await sha256File(join(dir, `file-${i}`))
      if (got !== f.sha256)
        throw new SnapshotMismatchError(`helia: file ${i} has sha256 ${got}, want ${f.sha256}`)
    }
    return { ...run, bytes, bytesFromSeeders: bytes }
  } finally {
    await leecher.close()
  }
}

/**
 * Sends `go` to a receiver child and times it until it prints `done <bytes>`; throws unless it got `bytes`.
 * CPU of the receiver and of the senders over that time, and the receiver's peak RSS.
 */
async function timedTransfer(
  ctx: Pick<SwarmContext, 'signal' | 'timeoutMs'>,
  what: string,
  receiver: LineChild,
  senderPids: number[],
  go: string,
  bytes: number,
): Promise<Pick<CaseFigures, 'seconds' | 'cpuLeechers' | 'cpuSeeders' | 'rssLeecherPeak'>> {
  const cpu = new CpuMeter([receiver.pid, ...senderPids])
  const t = performance.now()
  receiver.send(go)
  const done = await receiver.waitFor(/^(done|failed) (.*)$/, ctx.timeoutMs, ctx.signal)
  const seconds = (performance.now() - t) / 1000
  const used = cpu.stop()
  const rss = vmBytes(receiver.pid, 'VmHWM')
  if (done[1] !== 'done' || Number(done[2]) !== bytes)
    throw new Error(`${what}: ${done[0]}, want ${bytes} bytes`)
  return {
    seconds,
    cpuLeechers: used.get(receiver.pid) ?? 0,
    cpuSeeders: sum(senderPids.map((pid) => used.get(pid) ?? 0)),
    rssLeecherPeak: rss,
  }
}

/** Children started one after another; if one fails to start, those started are closed. */
async function startChildren<T extends { child: LineChild }>(
  count: number,
  start: (i: number, started: T[]) => Promise<T>,
): Promise<T[]> {
  const started: T[] = []
  try {
    for (let i = 0; i < count; i++) started.push(await start(i, started))
    return started
  } catch (err) {
    await Promise.all(started.map((s) => s.child.close()))
    throw err
  }
}

/**
 * Helia seeders over the same files: the first imports them into a blockstore under `blocksDir`, the
 * others serve that blockstore (same CIDs). Not timed.
 */
export async function startHeliaSeeders(
  ctx: Pick<SwarmContext, 'signal' | 'timeoutMs'>,
  count: number,
  blocksDir: string,
  paths: string[],
): Promise<HeliaSeeder[]> {
  return startChildren<HeliaSeeder>(count, async (i, seeders) => {
    const source = i === 0 ? ['--files', paths.join(',')] : ['--cids', seeders[0].cids.join(',')]
    const { child, ready } = await LineChild.start({
      what: `helia seeder ${i + 1}`,
      nodeArgs: [here('./helia-child.ts'), '--role', 'seeder', '--blocks', blocksDir, ...source],
      ready: /^helia-seeder listening (\S+) cids (\S+)/,
      timeoutMs: ctx.timeoutMs,
      signal: ctx.signal,
    })
    return { child, addr: ready[1], cids: ready[2].split(',') }
  })
}

/** A raw libp2p sender child (scripts/bench/raw-libp2p-child.ts) and how many bytes each stream gets. */
export interface RawSender {
  child: LineChild
  addr: string
  bytes: number
}

/**
 * One raw sender per entry of `shares`, each sending its files or ranges (`PATH@OFFSET+LENGTH`) on every
 * stream. Not timed.
 */
export async function startRawSenders(
  ctx: Pick<SwarmContext, 'signal' | 'timeoutMs'>,
  shares: { files: string[]; bytes: number }[],
): Promise<RawSender[]> {
  return startChildren<RawSender>(shares.length, async (i) => {
    const { child, ready } = await LineChild.start({
      what: `raw libp2p sender ${i + 1}`,
      nodeArgs: [here('./raw-libp2p-child.ts'), '--role', 'sender', '--files', shares[i].files.join(',')],
      ready: /^raw-libp2p listening (\S+)/,
      timeoutMs: ctx.timeoutMs,
      signal: ctx.signal,
    })
    return { child, addr: ready[1], bytes: shares[i].bytes }
  })
}

/**
 * A fresh raw receiver dials every sender (not timed), then opens one stream to each at once and writes
 * what each sends to its own file, timed until the last byte is written. The transport of our nodes
 * (TCP + Noise + Yamux) with no chunks, hashes, index or cache: what adding senders costs the stack alone.
 */
export async function rawFetch(
  ctx: Pick<SwarmContext, 'signal' | 'timeoutMs'>,
  dir: string,
  senders: RawSender[],
): Promise<CaseFigures> {
  const { signal, timeoutMs } = ctx
  const { child: receiver } = await LineChild.start({
    what: 'raw libp2p receiver',
    nodeArgs: [
      here('./raw-libp2p-child.ts'),
      '--role',
      'receiver',
      '--dial',
      senders.map((s) => s.addr).join(','),
    ],
    ready: /^raw-libp2p ready/,
    timeoutMs,
    signal,
  })
  try {
    const bytes = sum(senders.map((s) => s.bytes))
    const go = `go ${senders.map((_, i) => join(dir, `received-${i + 1}.bin`)).join(',')}`
    const run = await timedTransfer(
      ctx,
      'raw',
      receiver,
      senders.map((s) => s.child.pid),
      go,
      bytes,
    )
    return { ...run, bytes, bytesFromSeeders: bytes, bytesBySeeder: senders.map((s) => s.bytes) }
  } finally {
    await receiver.close()
  }
}

function hrtimeUs(): number {
  return Number(process.hrtime.bigint() / 1000n)
}

function sum(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0)
}
