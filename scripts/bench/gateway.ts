/**
 * Benchmark: a client (@huggingface/hub `snapshotDownload` in a child process, empty cache) downloading a
 * model through the HF-compatible gateway of a node connected to `seeders` nodes that have it, against the
 * same client downloading directly from the mock Hub limited to `rate` bytes/s; same run, same repo. For
 * reference, `hffs-node model add` into a fresh node from the same seeders: the swarm without the gateway.
 *   node scripts/bench/gateway.ts [--mib 1024] [--seeders 3] [--rate 100000000] [--runs 1]
 *     [--timeout-s 600]
 * The gateway node starts empty for every run (its own cache must not serve the second run). Every
 * download is checked byte for byte against the source. Prints a table, writes bench-results/gateway.json.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { killDaemon, type DaemonEnv } from '../../test/cli/daemon-helpers.ts'
import { runCli } from '../../test/helpers/run-cli.ts'
import { startGatewayDaemon, type GatewayDaemon } from '../../test/node/gateway/gateway-helpers.ts'
import { startBenchDaemon, type BenchDaemon } from './bench-daemon.ts'
import { writeShardedModel, type SourceRepo } from './bench-repos.ts'
import { median, printTable, writeJson } from './bench-table.ts'
import { startMockHubProcess, type MockHubProcess } from './mock-hub-process.ts'
import { CpuMeter } from './proc-stats.ts'
import { ChildFailedError, killRunningChildren, runTimed } from './timed-child.ts'
import { SnapshotMismatchError, verifySnapshot } from './verify-snapshot.ts'

const CLIENT = fileURLToPath(new URL('./snapshot-download-child.ts', import.meta.url))
const HFFS_BIN = fileURLToPath(new URL('../../bin/hffs-node.js', import.meta.url))

const { values } = parseArgs({
  options: {
    mib: { type: 'string', default: '1024' },
    seeders: { type: 'string', default: '3' },
    rate: { type: 'string', default: '100000000' },
    runs: { type: 'string', default: '1' },
    'timeout-s': { type: 'string', default: '600' },
    help: { type: 'boolean', short: 'h' },
  },
  strict: true,
})
if (values.help === true) {
  console.log(`usage: node scripts/bench/gateway.ts [--mib 1024] [--seeders 3] [--rate 100000000] [--runs 1]
       [--timeout-s 600]
A client (@huggingface/hub snapshotDownload) through the gateway of a node with --seeders seeders vs straight
from the mock Hub limited to --rate bytes/s, same run; prints a table, writes bench-results/gateway.json.`)
  process.exit(0)
}
const modelBytes = Math.round(Number(values.mib) * 2 ** 20)
const seederCount = Number(values.seeders)
const rate = Number(values.rate)
const runs = Number(values.runs)
const timeoutMs = Number(values['timeout-s']) * 1000
for (const [flag, n] of [
  ['--mib', modelBytes],
  ['--seeders', seederCount],
  ['--rate', rate],
  ['--runs', runs],
  ['--timeout-s', timeoutMs],
] as const) {
  if (!(Number.isInteger(n) && n > 0)) throw new Error(`${flag} must be a positive whole number`)
}

type PathKey = 'gateway' | 'direct' | 'model-add'
const PATHS: PathKey[] = ['gateway', 'direct', 'model-add']

interface RunRecord {
  seconds: number
  mbps: number
  /** File-content bytes the mock Hub served during the run. */
  upstreamBytes: number
  upstreamRequests: number
  clientCpuSeconds: number
  clientPeakRssBytes: number
  /** CPU of the downloading node during the run (gateway and model-add paths). */
  nodeCpuSeconds: number | null
}

const shutdown = new AbortController()
let hub: MockHubProcess | null = null
const seeders: BenchDaemon[] = []
const gatewayHomes: string[] = []
process.on('exit', () => {
  killRunningChildren()
  hub?.killNow()
  for (const s of seeders) s.killNow()
})
process.on('SIGINT', () => {
  if (shutdown.signal.aborted) process.exit(130)
  shutdown.abort(new Error('interrupted'))
})

const loadAtStart = loadavg()[0]
const tmp = await mkdtemp(join(tmpdir(), 'hffs-bench-gateway-'))
const results: Record<PathKey, RunRecord[]> = { gateway: [], direct: [], 'model-add': [] }
try {
  const root = join(tmp, 'hub-root')
  let t = performance.now()
  const model = await writeShardedModel(root, 'bench/gateway-model', modelBytes)
  console.log(`wrote ${(model.bytes / 1e6).toFixed(0)} MB of repo in ${secondsSince(t)} s`)
  t = performance.now()
  hub = await startMockHubProcess({ root, startTimeoutMs: timeoutMs, signal: shutdown.signal })
  console.log(`mock hub at ${hub.url}, hashed in ${secondsSince(t)} s`)

  t = performance.now()
  await hub.setKnobs({ rateBytesPerSec: 0, latencyMs: 0 })
  for (let i = 0; i < seederCount; i++) {
    const s = await startBenchDaemon({ dir: join(tmp, `seeder-${i}`), hubUrl: hub.url })
    seeders.push(s)
    // The first seeder pulls from the Hub, the others from the seeders before them.
    for (const prev of seeders.slice(0, i))
      await s.cli(['peer', 'add', '127.0.0.1', '--port', String(prev.libp2pPort)])
    // Bounded by --timeout-s, not the CLI helper's minute: seeding a GiB on a busy machine can take longer.
    const add = await runCli(['model', 'add', model.id, '--quiet'], s.env, timeoutMs)
    if (add.code !== 0) throw new Error(`seeder ${i}: model add: exit ${add.code}: ${add.stderr.trim()}`)
  }
  console.log(`${seederCount} seeders have ${model.id} (${secondsSince(t)} s, not timed below)`)
  await hub.setKnobs({ rateBytesPerSec: rate, latencyMs: 0 })

  for (let run = 0; run < runs; run++) {
    for (const key of run % 2 === 0 ? PATHS : [...PATHS].reverse()) {
      const record =
        key === 'gateway'
          ? await throughGateway(hub, model, run)
          : key === 'direct'
            ? await direct(hub, model, run)
            : await modelAdd(hub, model, run)
      results[key].push(record)
      console.log(
        `run ${run + 1}/${runs} ${key}: ${record.seconds.toFixed(2)} s, ${record.mbps.toFixed(0)} MB/s, ` +
          `upstream ${(record.upstreamBytes / 1e6).toFixed(1)} MB in ${record.upstreamRequests} requests`,
      )
    }
  }

  const summary = Object.fromEntries(
    PATHS.map((k) => [
      k,
      {
        runs: results[k],
        medianSeconds: median(results[k].map((r) => r.seconds)),
        medianMBps: median(results[k].map((r) => r.mbps)),
        medianUpstreamBytes: median(results[k].map((r) => r.upstreamBytes)),
      },
    ]),
  ) as Record<
    PathKey,
    { medianSeconds: number; medianMBps: number; medianUpstreamBytes: number; runs: RunRecord[] }
  >
  console.log(
    `\n${(model.bytes / 2 ** 20).toFixed(0)} MiB model, ${seederCount} seeders, mock Hub at ${(rate / 1e6).toFixed(0)} MB/s, ` +
      `median of ${runs} run(s)`,
  )
  printTable(
    PATHS.map((k) => ({
      client: k === 'model-add' ? 'hffs-node model add' : 'snapshotDownload',
      via:
        k === 'direct' ? 'mock Hub directly' : `${k === 'gateway' ? 'gateway, ' : ''}${seederCount} seeders`,
      seconds: summary[k].medianSeconds,
      'MB/s': summary[k].medianMBps,
      'upstream MB': summary[k].medianUpstreamBytes / 1e6,
      'client peak RSS MB': median(results[k].map((r) => r.clientPeakRssBytes)) / 1e6,
      'node CPU s': k === 'direct' ? '-' : median(results[k].map((r) => r.nodeCpuSeconds ?? 0)),
    })),
  )
  const speedup = summary.direct.medianSeconds / summary.gateway.medianSeconds
  const overhead = summary.gateway.medianSeconds / summary['model-add'].medianSeconds
  console.log(
    `\nthrough the gateway vs directly from the Hub: ${speedup.toFixed(2)}x the speed; ` +
      `time through the gateway / time of model add: ${overhead.toFixed(2)}; every download verified by sha256`,
  )
  writeJson('bench-results/gateway.json', {
    date: new Date().toISOString(),
    node: process.version,
    cpu: cpus()[0]?.model,
    availableParallelism: availableParallelism(),
    loadAverage: { start: loadAtStart, end: loadavg()[0] },
    modelBytes: model.bytes,
    seeders: seederCount,
    hubRateBytesPerSec: rate,
    runs,
    speedup,
    gatewayTimeOverModelAdd: overhead,
    paths: summary,
  })
} catch (err) {
  const expected = err instanceof ChildFailedError || err instanceof SnapshotMismatchError
  console.error(`\nbench:gateway failed: ${expected ? (err as Error).message : (err as Error).stack}`)
  process.exitCode = shutdown.signal.aborted ? 130 : 1
} finally {
  for (const home of gatewayHomes) await killDaemon(home)
  for (const s of seeders) await s.stop().catch(() => s.killNow())
  await hub?.close()
  await rm(tmp, { recursive: true, force: true })
}

/** A fresh gateway node connected to every seeder; the client downloads through it. */
async function throughGateway(hub: MockHubProcess, model: SourceRepo, run: number): Promise<RunRecord> {
  const dir = join(tmp, `gateway-${run}`)
  const env: DaemonEnv & { HF_ENDPOINT: string } = {
    HFFS_HOME: join(dir, 'hffs-home'),
    HF_HUB_CACHE: join(dir, 'hub-cache'),
    HF_HOME: join(dir, 'hf-home'),
    HF_ENDPOINT: hub.url,
  }
  gatewayHomes.push(env.HFFS_HOME)
  const gw: GatewayDaemon = await startGatewayDaemon(env)
  try {
    for (const s of seeders) {
      const r = await runCli(['peer', 'add', '127.0.0.1', '--port', String(s.libp2pPort)], env)
      if (r.code !== 0) throw new Error(`peer add: ${r.stderr.trim()}`)
    }
    const meter = new CpuMeter([gw.info.pid])
    const record = await timedClient(hub, model, gw.url, join(dir, 'client'))
    record.nodeCpuSeconds = meter.stop().get(gw.info.pid) ?? null
    return record
  } finally {
    await killDaemon(env.HFFS_HOME)
    await rm(dir, { recursive: true, force: true })
  }
}

/** The swarm without the gateway: a fresh node pulls the model from the seeders (`model add`). */
async function modelAdd(hub: MockHubProcess, model: SourceRepo, run: number): Promise<RunRecord> {
  const dir = join(tmp, `model-add-${run}`)
  const node = await startBenchDaemon({ dir, hubUrl: hub.url })
  try {
    for (const s of seeders) await node.cli(['peer', 'add', '127.0.0.1', '--port', String(s.libp2pPort)])
    await hub.resetStats()
    const meter = new CpuMeter([node.pid])
    const run = await runTimed({
      what: 'hffs-node model add',
      nodeArgs: [HFFS_BIN, 'model', 'add', model.id, '--quiet'],
      env: { ...process.env, ...node.env },
      timeFile: join(dir, 'time.txt'),
      timeoutMs,
      signal: shutdown.signal,
    })
    const nodeCpu = meter.stop().get(node.pid) ?? null
    const stats = await hub.stats()
    await verifySnapshot(node.cacheDir, model)
    return {
      seconds: run.seconds,
      mbps: model.bytes / 1e6 / run.seconds,
      upstreamBytes: stats.totalBytes,
      upstreamRequests: stats.requests.total,
      clientCpuSeconds: run.cpuSeconds,
      clientPeakRssBytes: run.maxRssBytes,
      nodeCpuSeconds: nodeCpu,
    }
  } finally {
    await node.stop().catch(() => node.killNow())
    await rm(dir, { recursive: true, force: true })
  }
}

async function direct(hub: MockHubProcess, model: SourceRepo, run: number): Promise<RunRecord> {
  const dir = join(tmp, `direct-${run}`)
  try {
    return await timedClient(hub, model, hub.url, join(dir, 'client'))
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

async function timedClient(
  hub: MockHubProcess,
  model: SourceRepo,
  hubUrl: string,
  dir: string,
): Promise<RunRecord> {
  await mkdir(dir, { recursive: true })
  await hub.resetStats()
  const cacheDir = join(dir, 'hub')
  const env = { ...process.env }
  for (const name of Object.keys(env)) if (/^(HF_|HFFS_|TRANSFORMERS_)/.test(name)) delete env[name]
  const run = await runTimed({
    what: `snapshotDownload from ${hubUrl}`,
    nodeArgs: [CLIENT, '--hub', hubUrl, '--repo', model.id, '--cache-dir', cacheDir],
    env: { ...env, HF_HOME: join(dir, 'hf-home') },
    timeFile: join(dir, 'time.txt'),
    timeoutMs,
    signal: shutdown.signal,
  })
  const stats = await hub.stats()
  await verifySnapshot(cacheDir, model)
  return {
    seconds: run.seconds,
    mbps: model.bytes / 1e6 / run.seconds,
    upstreamBytes: stats.totalBytes,
    upstreamRequests: stats.requests.total,
    clientCpuSeconds: run.cpuSeconds,
    clientPeakRssBytes: run.maxRssBytes,
    nodeCpuSeconds: null,
  }
}

function secondsSince(t: number): string {
  return ((performance.now() - t) / 1000).toFixed(1)
}
