/** The four timed transfers of the peer-pull benchmark, each measured over the same bytes. */
import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { BenchDaemon } from './bench-daemon.ts'
import type { SourceRepo } from './bench-repos.ts'
import { LineChild } from './line-child.ts'
import type { MockHubProcess } from './mock-hub-process.ts'
import type { RunRecord } from './peer-pull-report.ts'
import { CpuMeter, RssSampler, vmBytes } from './proc-stats.ts'
import { runTimed } from './timed-child.ts'
import { verifySnapshot } from './verify-snapshot.ts'

const HFFS_BIN = fileURLToPath(new URL('../../bin/hffs-node.js', import.meta.url))
const here = (name: string): string => fileURLToPath(new URL(name, import.meta.url))

/** What every measurement of the peer-pull benchmark needs from the run. */
export interface MeasureContext {
  signal: AbortSignal
  timeoutMs: number
  /** Starts a fresh daemon with its home and cache under `dir`. */
  startDaemon: (dir: string) => Promise<BenchDaemon>
  /** Stops one started by `startDaemon`. */
  stopDaemon: (daemon: BenchDaemon) => Promise<void>
}

/** A fresh daemon B adds A as its peer; `model add` through B is timed, then checked. */
export async function pullFromPeer(
  ctx: MeasureContext,
  dir: string,
  a: BenchDaemon,
  repo: SourceRepo,
): Promise<RunRecord> {
  const { signal, timeoutMs } = ctx
  const b = await ctx.startDaemon(dir)
  try {
    await b.cli(['peer', 'add', '127.0.0.1', '--port', String(a.libp2pPort)])
    const cpu = new CpuMeter([a.pid, b.pid])
    const rss = new RssSampler([a.pid])
    const run = await runTimed({
      what: 'hffs-node model add',
      nodeArgs: [HFFS_BIN, 'model', 'add', repo.id, '--json'],
      env: { ...process.env, ...b.env },
      timeFile: join(dir, 'time.txt'),
      timeoutMs,
      signal,
    })
    const used = cpu.stop()
    const peak = rss.stop()
    const rssB = vmBytes(b.pid, 'VmHWM')
    const result = JSON.parse(run.stdout) as { bytesFromHub: number; bytesFromPeers: number }
    if (result.bytesFromHub !== 0 || result.bytesFromPeers < repo.bytes)
      throw new Error(`pull: ${result.bytesFromPeers} bytes from A, ${result.bytesFromHub} from the Hub`)
    await verifySnapshot(b.cacheDir, repo)
    return {
      seconds: run.seconds,
      bytes: repo.bytes,
      cpuSender: used.get(a.pid) ?? 0,
      cpuReceiver: used.get(b.pid) ?? 0,
      rssSender: peak.get(a.pid) ?? 0,
      rssReceiver: rssB,
    }
  } finally {
    await ctx.stopDaemon(b)
  }
}

/** A fresh receiver process, connected before the clock starts, takes both shards over one stream. */
export async function rawStream(
  ctx: MeasureContext,
  dir: string,
  sender: LineChild,
  addr: string,
  bytes: number,
): Promise<RunRecord> {
  const { signal, timeoutMs } = ctx
  const { child: receiver } = await LineChild.start({
    what: 'raw libp2p receiver',
    nodeArgs: [here('./raw-libp2p-child.ts'), '--role', 'receiver', '--dial', addr],
    ready: /^raw-libp2p ready/,
    timeoutMs,
    signal,
  })
  try {
    const cpu = new CpuMeter([sender.pid, receiver.pid])
    const rss = new RssSampler([sender.pid])
    const started = performance.now()
    receiver.send(`go ${join(dir, 'received.bin')}`)
    const done = await receiver.waitFor(/^(done|failed) (.*)$/, timeoutMs, signal)
    const seconds = (performance.now() - started) / 1000
    const used = cpu.stop()
    const peak = rss.stop()
    if (done[1] !== 'done' || Number(done[2]) !== bytes)
      throw new Error(`raw stream: ${done[0]}, want ${bytes} bytes`)
    return {
      seconds,
      bytes,
      cpuSender: used.get(sender.pid) ?? 0,
      cpuReceiver: used.get(receiver.pid) ?? 0,
      rssSender: peak.get(sender.pid) ?? 0,
      rssReceiver: vmBytes(receiver.pid, 'VmHWM'),
    }
  } finally {
    await receiver.close()
  }
}

export async function curlFiles(
  ctx: MeasureContext,
  curl: string,
  dir: string,
  server: LineChild,
  url: string,
  shards: string[],
  bytes: number,
): Promise<RunRecord> {
  const { signal, timeoutMs } = ctx
  const outputs = shards.map((_, i) => join(dir, `shard-${i}`))
  const cpu = new CpuMeter([server.pid])
  const rss = new RssSampler([server.pid])
  const run = await runTimed({
    what: 'curl',
    command: curl,
    nodeArgs: ['-s', '--fail', ...shards.flatMap((p, i) => ['-o', outputs[i], `${url}/${encodeURI(p)}`])],
    env: process.env,
    timeFile: join(dir, 'time.txt'),
    timeoutMs,
    signal,
  })
  const used = cpu.stop()
  const peak = rss.stop()
  await expectBytes('curl', outputs, bytes)
  return {
    seconds: run.seconds,
    bytes,
    cpuSender: used.get(server.pid) ?? 0,
    cpuReceiver: run.cpuSeconds,
    rssSender: peak.get(server.pid) ?? 0,
    rssReceiver: run.maxRssBytes,
  }
}

export async function hubDownload(
  ctx: MeasureContext,
  repoId: string,
  dir: string,
  hub: MockHubProcess,
  shards: string[],
  bytes: number,
): Promise<RunRecord> {
  const { signal, timeoutMs } = ctx
  const cpu = new CpuMeter([hub.pid])
  const rss = new RssSampler([hub.pid])
  const run = await runTimed({
    what: 'downloadFileToCacheDir',
    nodeArgs: [
      here('./hub-file-download-child.ts'),
      '--hub',
      hub.url,
      '--repo',
      repoId,
      '--cache-dir',
      dir,
      ...shards,
    ],
    env: process.env,
    timeFile: join(dir, 'time.txt'),
    timeoutMs,
    signal,
  })
  const used = cpu.stop()
  const peak = rss.stop()
  const cached = run.stdout.split('\n').flatMap((line) => (line.startsWith('cached ') ? [line.slice(7)] : []))
  await expectBytes('downloadFileToCacheDir', cached, bytes)
  return {
    seconds: run.seconds,
    bytes,
    cpuSender: used.get(hub.pid) ?? 0,
    cpuReceiver: run.cpuSeconds,
    rssSender: peak.get(hub.pid) ?? 0,
    rssReceiver: run.maxRssBytes,
  }
}

/** The baselines are not verified byte for byte, only by size. */
async function expectBytes(what: string, paths: string[], bytes: number): Promise<void> {
  const got = (await Promise.all(paths.map((p) => stat(p)))).reduce((n, s) => n + s.size, 0)
  if (got !== bytes) throw new Error(`${what}: got ${got} bytes, want ${bytes}`)
}
