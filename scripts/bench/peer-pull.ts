/**
 * Benchmark: `hffs-node model add` pulling a model from a peer, against a raw libp2p stream, curl and
 * @huggingface/hub over the same bytes, in the same run.
 *   node scripts/bench/peer-pull.ts [--mib 1024] [--runs 3] [--methods ours,raw,curl,hub]
 *     [--profile DIR] [--node-options OPTS] [--timeout-s 300] [--budget-min 20]
 * A model of two safetensors shards (`mib` MiB of random data) and a few small files is served by the mock
 * Hub (own process). Daemon A pulls it from the Hub (not timed). Each run then times, in rotating order:
 *   ours  a fresh daemon B (fresh HFFS_HOME and HF_HUB_CACHE) `peer add`s A, then `model add` through B;
 *         every file checked by sha256 against its source, and no byte may come from the Hub;
 *   raw   one libp2p stream (TCP + Noise + Yamux, the node's options) from a long-lived sender to a fresh
 *         receiver process, the two shards' bytes with send() + onDrain(), written to a file;
 *   curl  both shards from a node:http static server in its own process;
 *   hub   both shards with downloadFileToCacheDir from the mock Hub, in a child process.
 * `--profile DIR` starts A and every B with `--cpu-prof` into DIR; `--node-options` adds Node flags to
 * every daemon (e.g. GC settings). Prints a table, writes
 * bench-results/peer-pull.json.
 */
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises'
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { startBenchDaemon, type BenchDaemon } from './bench-daemon.ts'
import { writeShardedModel } from './bench-repos.ts'
import { writeJson } from './bench-table.ts'
import { LineChild } from './line-child.ts'
import { startMockHubProcess } from './mock-hub-process.ts'
import { benchProcesses, findOnPath, flushDirtyPages, secondsSince } from './bench-processes.ts'
import { curlFiles, hubDownload, pullFromPeer, rawStream, type MeasureContext } from './peer-pull-methods.ts'
import { METHOD_LABELS, printReport, summarize, type MethodKey, type RunRecord } from './peer-pull-report.ts'
import { ChildFailedError } from './timed-child.ts'
import { SnapshotMismatchError } from './verify-snapshot.ts'

const here = (name: string): string => fileURLToPath(new URL(name, import.meta.url))
const REPO_ID = 'bench/peer-pull-model'

const { values } = parseArgs({
  options: {
    mib: { type: 'string', default: '1024' },
    runs: { type: 'string', default: '3' },
    methods: { type: 'string', default: 'ours,raw,curl,hub' },
    profile: { type: 'string' },
    'node-options': { type: 'string' },
    'timeout-s': { type: 'string', default: '300' },
    'budget-min': { type: 'string', default: '20' },
  },
  strict: true,
})
const modelBytes = Math.round(Number(values.mib) * 2 ** 20)
const runs = Number(values.runs)
const timeoutMs = Number(values['timeout-s']) * 1000
const deadline = Date.now() + Number(values['budget-min']) * 60_000
for (const [flag, n] of [
  ['--mib', modelBytes],
  ['--runs', runs],
  ['--timeout-s', timeoutMs],
] as const) {
  if (!(Number.isInteger(n) && n > 0)) throw new Error(`${flag} must be a positive whole number`)
}
const curl = findOnPath('curl')
const methods = values.methods.split(',').map((m) => m.trim()) as MethodKey[]
for (const m of methods) if (!(m in METHOD_LABELS)) throw new Error(`--methods: unknown method "${m}"`)
if (curl === null && methods.includes('curl')) {
  console.log('curl is not installed: the curl baseline is skipped')
  methods.splice(methods.indexOf('curl'), 1)
}
const profileDir = values.profile === undefined ? undefined : resolve(values.profile)
const nodeOptions =
  [profileDir === undefined ? '' : `--cpu-prof --cpu-prof-dir=${profileDir}`, values['node-options'] ?? '']
    .join(' ')
    .trim() || undefined

const procs = benchProcesses()
const { signal, daemons, helpers } = procs

const loadAtStart = loadavg()[0]
const tmp = await mkdtemp(join(tmpdir(), 'hffs-bench-peer-pull-'))
try {
  if (profileDir !== undefined) await mkdir(profileDir, { recursive: true })
  const hubRoot = join(tmp, 'hub-root')
  let t = performance.now()
  const repo = await writeShardedModel(hubRoot, REPO_ID, modelBytes)
  const branch = join(hubRoot, 'models', ...REPO_ID.split('/'), 'main')
  const shards = [...repo.sha256.keys()].filter((p) => p.endsWith('.safetensors'))
  const shardBytes = (await Promise.all(shards.map((p) => stat(join(branch, p))))).reduce(
    (n, s) => n + s.size,
    0,
  )
  console.log(`wrote ${(repo.bytes / 1e6).toFixed(0)} MB, ${repo.sha256.size} files, in ${secondsSince(t)} s`)

  t = performance.now()
  const hub = (procs.hub = await startMockHubProcess({ root: hubRoot, startTimeoutMs: timeoutMs, signal }))
  const a = await startDaemon(join(tmp, 'daemon-a'), hub.url)
  await a.cli(['model', 'add', REPO_ID, '--quiet'])
  console.log(`mock hub hashed the repo, daemon A pulled it from the Hub: ${secondsSince(t)} s (not timed)`)

  const { child: server, ready: serverUrl } = await LineChild.start({
    what: 'static server',
    nodeArgs: [here('./static-server-child.ts'), '--root', branch],
    ready: /^static-server listening on (\S+)/,
    timeoutMs,
    signal,
  })
  helpers.push(server)
  const { child: sender, ready: senderAddr } = await LineChild.start({
    what: 'raw libp2p sender',
    nodeArgs: [
      here('./raw-libp2p-child.ts'),
      '--role',
      'sender',
      '--files',
      shards.map((p) => join(branch, p)).join(','),
    ],
    ready: /^raw-libp2p listening (\S+)/,
    timeoutMs,
    signal,
  })
  helpers.push(sender)

  const hubUrl = hub.url
  const ctx: MeasureContext = {
    signal,
    timeoutMs,
    startDaemon: (dir) => startDaemon(dir, hubUrl),
    stopDaemon: async (d) => {
      await d.stop()
      daemons.delete(d)
    },
  }
  const measure: Record<MethodKey, (dir: string) => Promise<RunRecord>> = {
    ours: (dir) => pullFromPeer(ctx, dir, a, repo),
    raw: (dir) => rawStream(ctx, dir, sender, senderAddr[1], shardBytes),
    curl: (dir) => curlFiles(ctx, curl as string, dir, server, serverUrl[1], shards, shardBytes),
    hub: (dir) => hubDownload(ctx, REPO_ID, dir, hub, shards, shardBytes),
  }
  const results = new Map<MethodKey, RunRecord[]>(methods.map((m) => [m, []]))
  for (let run = 0; run < runs; run++) {
    // rotate the order, so that no method always meets a warmer (or busier) machine
    for (let k = 0; k < methods.length; k++) {
      const method = methods[(run + k) % methods.length]
      if (Date.now() > deadline) throw new Error(`over the time budget of ${values['budget-min']} min`)
      const dir = join(tmp, `run-${run}-${method}`)
      await mkdir(dir, { recursive: true })
      // daemon A's pull from the Hub, and each run's files, are written back before the next run, not in it
      const flushed = flushDirtyPages(timeoutMs)
      if (flushed >= 0.5)
        console.log(`before ${method}: sync wrote dirty pages back for ${flushed.toFixed(1)} s`)
      const record = await measure[method](dir)
      await rm(dir, { recursive: true, force: true })
      results.get(method)?.push(record)
      console.log(
        `run ${run + 1}/${runs} ${METHOD_LABELS[method]}: ${record.seconds.toFixed(2)} s, ` +
          `${(record.bytes / 2 ** 20 / record.seconds).toFixed(0)} MiB/s, CPU ${record.cpuSender.toFixed(1)} + ` +
          `${record.cpuReceiver.toFixed(1)} s`,
      )
    }
  }
  const summary = summarize(results)
  printReport(summary)
  if (profileDir !== undefined)
    console.log(`CPU profiles of the daemons (slower under --cpu-prof): ${profileDir}`)
  console.log(`1-min load average at start ${loadAtStart.toFixed(2)}, at end ${loadavg()[0].toFixed(2)}`)
  writeJson('bench-results/peer-pull.json', {
    date: new Date().toISOString(),
    node: process.version,
    cpu: cpus()[0]?.model,
    availableParallelism: availableParallelism(),
    loadAverage: { start: loadAtStart, end: loadavg()[0] },
    repo: { id: repo.id, files: repo.sha256.size, bytes: repo.bytes, shardBytes },
    runs,
    profiled: profileDir !== undefined,
    hubBaselineSource: 'mock Hub (scripts/mock-hub) in its own process',
    methods: summary,
  })
} catch (err) {
  // a wrong download, a failed child or an interrupt: one line; anything else with its stack
  const expected = err instanceof ChildFailedError || err instanceof SnapshotMismatchError
  console.error(`\nbench:peer-pull failed: ${expected ? (err as Error).message : (err as Error).stack}`)
  process.exitCode = signal.aborted ? 130 : 1
} finally {
  for (const d of daemons) await d.stop().catch(() => d.killNow())
  await Promise.all(helpers.map((h) => h.close()))
  await procs.hub?.close()
  if (process.exitCode === 1 && process.env.HFFS_BENCH_KEEP === '1') console.error(`kept ${tmp}`)
  else await rm(tmp, { recursive: true, force: true })
}

async function startDaemon(dir: string, hubUrl: string): Promise<BenchDaemon> {
  const d = await startBenchDaemon({ dir, hubUrl, nodeOptions })
  daemons.add(d)
  return d
}
