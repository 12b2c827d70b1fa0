/**
 * Benchmark: `hffs-node model add` against @huggingface/hub's `snapshotDownload`, each a child process
 * with an empty cache, both downloading from the mock Hub in a third process.
 *   node scripts/bench/model-add.ts [--mib 1024] [--runs 3] [--small-files 200] [--small-kib 100]
 *     [--rate 200000000] [--latency-ms 20] [--scenarios A,B,C] [--timeout-s 300] [--budget-min 30]
 * A: a model of two safetensors shards (`mib` MiB) over a link of `rate` bytes/s, `latency-ms` per request.
 * B: the same model, no bandwidth limit, no latency.
 * C: `small-files` files of `small-kib` KiB over the link of A: per-request latency dominates.
 * Runs alternate between the tools; every download is checked byte for byte against the source files,
 * and a wrong one fails the benchmark. Prints a table and writes bench-results/model-add.json.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { writeJson } from './bench-table.ts'
import { writeManySmallFiles, writeShardedModel, type SourceRepo } from './bench-repos.ts'
import {
  mbps,
  reportModelAdd,
  TOOL_LABELS,
  type RunRecord,
  type Scenario,
  type ToolKey,
} from './model-add-report.ts'
import { startMockHubProcess, type MockHubProcess } from './mock-hub-process.ts'
import { ChildFailedError, killRunningChildren, runTimed } from './timed-child.ts'
import { SnapshotMismatchError, verifySnapshot } from './verify-snapshot.ts'

const HFFS_BIN = fileURLToPath(new URL('../../bin/hffs-node.js', import.meta.url))
const BASELINE_CHILD = fileURLToPath(new URL('./snapshot-download-child.ts', import.meta.url))

const { values } = parseArgs({
  options: {
    mib: { type: 'string', default: '1024' },
    runs: { type: 'string', default: '3' },
    'small-files': { type: 'string', default: '200' },
    'small-kib': { type: 'string', default: '100' },
    rate: { type: 'string', default: '200000000' },
    'latency-ms': { type: 'string', default: '20' },
    scenarios: { type: 'string', default: 'A,B,C' },
    'timeout-s': { type: 'string', default: '300' },
    'budget-min': { type: 'string', default: '30' },
  },
  strict: true,
})
const modelBytes = Math.round(Number(values.mib) * 2 ** 20)
const runs = Number(values.runs)
const smallFiles = Number(values['small-files'])
const smallBytes = Math.round(Number(values['small-kib']) * 1024)
const rate = Number(values.rate)
const latencyMs = Number(values['latency-ms'])
const timeoutMs = Number(values['timeout-s']) * 1000
const deadline = Date.now() + Number(values['budget-min']) * 60_000
const picked = new Set(values.scenarios.split(',').map((s) => s.trim().toUpperCase()))
for (const [flag, n] of [
  ['--mib', modelBytes],
  ['--runs', runs],
  ['--small-files', smallFiles],
  ['--small-kib', smallBytes],
  ['--timeout-s', timeoutMs],
  ['--budget-min', deadline - Date.now()],
] as const) {
  if (!(Number.isInteger(n) && n > 0)) throw new Error(`${flag} must be a positive whole number`)
}
if (!(rate >= 0 && latencyMs >= 0)) throw new Error('--rate and --latency-ms must be >= 0')

interface Tool {
  key: ToolKey
  nodeArgs: (repo: SourceRepo, hubUrl: string, cacheDir: string) => string[]
}

const TOOLS: Tool[] = [
  { key: 'hffs-node', nodeArgs: (repo) => [HFFS_BIN, 'model', 'add', repo.id, '--quiet'] },
  {
    key: 'snapshotDownload',
    nodeArgs: (repo, hubUrl, cacheDir) => [
      BASELINE_CHILD,
      '--hub',
      hubUrl,
      '--repo',
      repo.id,
      '--cache-dir',
      cacheDir,
    ],
  },
]

/** The children get a clean Hub environment: no token, not offline, caches of their own. */
function childEnv(hubUrl: string, dir: string): NodeJS.ProcessEnv {
  const env = { ...process.env }
  for (const name of Object.keys(env)) if (/^(HF_|HFFS_|TRANSFORMERS_)/.test(name)) delete env[name]
  return {
    ...env,
    HF_ENDPOINT: hubUrl,
    HF_HOME: join(dir, 'hf-home'),
    HF_HUB_CACHE: join(dir, 'hub'),
    HFFS_HOME: join(dir, 'hffs-home'),
  }
}

const shutdown = new AbortController()
let hub: MockHubProcess | null = null
process.on('exit', () => {
  killRunningChildren()
  hub?.killNow()
})
process.on('SIGINT', () => {
  if (shutdown.signal.aborted) process.exit(130) // a second Ctrl-C forces exit
  shutdown.abort(new Error('interrupted'))
})

const loadAtStart = loadavg()[0]
const tmp = await mkdtemp(join(tmpdir(), 'hffs-bench-model-add-'))
const results: Record<string, Record<ToolKey, RunRecord[]>> = {}
const scenarios: Scenario[] = []
try {
  const root = join(tmp, 'hub-root')
  let t = performance.now()
  const model = await writeShardedModel(root, 'bench/sharded-model', modelBytes)
  const many = await writeManySmallFiles(root, 'bench/many-small-files', smallFiles, smallBytes)
  console.log(`wrote ${((model.bytes + many.bytes) / 1e6).toFixed(0)} MB of repos in ${secondsSince(t)} s`)
  const link = `${(rate / 1e6).toFixed(0)} MB/s + ${latencyMs} ms`
  const all: Scenario[] = [
    {
      key: 'A',
      describe: `model, ${link}`,
      repo: model,
      rateBytesPerSec: rate,
      latencyMs,
      latencyBound: false,
    },
    {
      key: 'B',
      describe: 'model, unlimited',
      repo: model,
      rateBytesPerSec: 0,
      latencyMs: 0,
      latencyBound: false,
    },
    {
      key: 'C',
      describe: `${smallFiles} x ${values['small-kib']} KiB, ${link}`,
      repo: many,
      rateBytesPerSec: rate,
      latencyMs,
      latencyBound: true,
    },
  ]
  scenarios.push(...all.filter((s) => picked.has(s.key)))

  t = performance.now()
  hub = await startMockHubProcess({ root, startTimeoutMs: timeoutMs, signal: shutdown.signal })
  console.log(`mock hub at ${hub.url}, every repo hashed in ${secondsSince(t)} s (not timed below)`)

  for (const scenario of scenarios) {
    await hub.setKnobs({ rateBytesPerSec: scenario.rateBytesPerSec, latencyMs: scenario.latencyMs })
    const records: Record<ToolKey, RunRecord[]> = { 'hffs-node': [], snapshotDownload: [] }
    results[scenario.key] = records
    for (let run = 0; run < runs; run++) {
      // alternate which tool goes first, so that neither always meets a warmer machine
      for (const tool of run % 2 === 0 ? TOOLS : [...TOOLS].reverse()) {
        const record = await measure(hub, scenario, tool, join(tmp, `run-${scenario.key}-${run}-${tool.key}`))
        records[tool.key].push(record)
        console.log(
          `${scenario.key} run ${run + 1}/${runs} ${TOOL_LABELS[tool.key]}: ${record.seconds.toFixed(2)} s, ` +
            `${mbps(scenario.repo.bytes, record.seconds).toFixed(0)} MB/s, CPU ${record.cpuSeconds.toFixed(2)} s, ` +
            `peak RSS ${(record.maxRssBytes / 1e6).toFixed(0)} MB, ${record.requests} requests`,
        )
      }
    }
  }
  const summary = reportModelAdd(scenarios, results)
  console.log(`every download verified by sha256; 1-min load average at start ${loadAtStart.toFixed(2)}`)
  writeJson('bench-results/model-add.json', {
    date: new Date().toISOString(),
    node: process.version,
    cpu: cpus()[0]?.model,
    availableParallelism: availableParallelism(),
    loadAverage: { start: loadAtStart, end: loadavg()[0] },
    runs,
    scenarios: summary,
  })
} catch (err) {
  // a wrong download, a failed child or an interrupt: one line; anything else with its stack
  const expected = err instanceof ChildFailedError || err instanceof SnapshotMismatchError
  console.error(`\nbench:model-add failed: ${expected ? (err as Error).message : (err as Error).stack}`)
  process.exitCode = shutdown.signal.aborted ? 130 : 1
} finally {
  await hub?.close()
  await rm(tmp, { recursive: true, force: true })
}

/** One timed download into a fresh cache, verified, then deleted. */
async function measure(hub: MockHubProcess, scenario: Scenario, tool: Tool, dir: string): Promise<RunRecord> {
  const left = deadline - Date.now()
  if (left <= 0) throw new Error(`over the time budget of ${values['budget-min']} min`)
  await mkdir(dir, { recursive: true })
  await hub.resetStats()
  const cacheDir = join(dir, 'hub')
  const run = await runTimed({
    what: `${scenario.key} ${TOOL_LABELS[tool.key]}`,
    nodeArgs: tool.nodeArgs(scenario.repo, hub.url, cacheDir),
    env: childEnv(hub.url, dir),
    timeFile: join(dir, 'time.txt'),
    timeoutMs: Math.min(timeoutMs, left),
    signal: shutdown.signal,
  })
  const stats = await hub.stats()
  await verifySnapshot(cacheDir, scenario.repo)
  await rm(dir, { recursive: true, force: true })
  return {
    seconds: run.seconds,
    cpuSeconds: run.cpuSeconds,
    maxRssBytes: run.maxRssBytes,
    requests: stats.requests.total,
    bytesServed: stats.totalBytes,
  }
}

function secondsSince(t: number): string {
  return ((performance.now() - t) / 1000).toFixed(1)
}
