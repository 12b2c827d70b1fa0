import { median, printTable } from './bench-table.ts'
import type { SourceRepo } from './bench-repos.ts'

/** Goals of the issue: never slower; >= 1.5x where latency dominates; peak RSS of `model add` < 250 MB. */
const GOAL_LATENCY_RATIO = 1.5
const GOAL_RSS_BYTES = 250e6

export type ToolKey = 'hffs-node' | 'snapshotDownload'

export const TOOL_LABELS: Record<ToolKey, string> = {
  'hffs-node': 'hffs-node model add',
  snapshotDownload: '@huggingface/hub snapshotDownload',
}

export interface Scenario {
  key: string
  describe: string
  repo: SourceRepo
  rateBytesPerSec: number
  latencyMs: number
  /** Where latency dominates: the goal is >= 1.5x, not just >= 1x. */
  latencyBound: boolean
}

/** One timed download. */
export interface RunRecord {
  seconds: number
  /** User + system CPU of the child. */
  cpuSeconds: number
  maxRssBytes: number
  /** Requests and file-content bytes the mock Hub answered during the run. */
  requests: number
  bytesServed: number
}

export interface ToolSummary {
  runs: RunRecord[]
  medianSeconds: number
  medianMBps: number
  medianCpuSeconds: number
  peakRssBytes: number
  medianRequests: number
}

export interface ScenarioSummary {
  scenario: string
  describe: string
  repo: { id: string; files: number; bytes: number }
  rateBytesPerSec: number
  latencyMs: number
  tools: Record<ToolKey, ToolSummary>
  /** Our median MB/s over snapshotDownload's. */
  speedRatio: number
  goals: { speedRatioAtLeast: number; speedMet: boolean; rssUnderBytes: number; rssMet: boolean }
}

export function mbps(bytes: number, seconds: number): number {
  return bytes / 1e6 / seconds
}

/** Medians per scenario and tool, printed as a table with the goals; returns them for the JSON. */
export function reportModelAdd(
  scenarios: readonly Scenario[],
  results: Record<string, Record<ToolKey, RunRecord[]>>,
): ScenarioSummary[] {
  const rows: Record<string, string | number>[] = []
  const summary = scenarios.map((scenario): ScenarioSummary => {
    const records = results[scenario.key]
    const tools = {
      'hffs-node': summarize(records['hffs-node'], scenario.repo.bytes),
      snapshotDownload: summarize(records.snapshotDownload, scenario.repo.bytes),
    }
    const speedRatio = tools['hffs-node'].medianMBps / tools.snapshotDownload.medianMBps
    for (const key of ['hffs-node', 'snapshotDownload'] as const) {
      rows.push({
        scenario: `${scenario.key} ${scenario.describe}`,
        tool: TOOL_LABELS[key],
        'median s': tools[key].medianSeconds,
        'median MB/s': tools[key].medianMBps,
        'CPU s': tools[key].medianCpuSeconds,
        'peak RSS MB': tools[key].peakRssBytes / 1e6,
        requests: tools[key].medianRequests,
        'ours/theirs': key === 'hffs-node' ? `${speedRatio.toFixed(2)}x` : '',
      })
    }
    const wantRatio = scenario.latencyBound ? GOAL_LATENCY_RATIO : 1
    return {
      scenario: scenario.key,
      describe: scenario.describe,
      repo: { id: scenario.repo.id, files: scenario.repo.sha256.size, bytes: scenario.repo.bytes },
      rateBytesPerSec: scenario.rateBytesPerSec,
      latencyMs: scenario.latencyMs,
      tools,
      speedRatio,
      goals: {
        speedRatioAtLeast: wantRatio,
        speedMet: speedRatio >= wantRatio,
        rssUnderBytes: GOAL_RSS_BYTES,
        rssMet: tools['hffs-node'].peakRssBytes < GOAL_RSS_BYTES,
      },
    }
  })
  console.log()
  printTable(rows)
  console.log('\nMB = 10^6 bytes; CPU s = user + system of the child; peak RSS = largest of the runs')
  for (const s of summary) {
    const { goals } = s
    const rss = s.tools['hffs-node'].peakRssBytes / 1e6
    console.log(
      `goal ${s.scenario}: speed ${s.speedRatio.toFixed(2)}x (>= ${goals.speedRatioAtLeast}x) ` +
        `${goals.speedMet ? 'met' : 'MISSED'}; peak RSS ${rss.toFixed(0)} MB ` +
        `(< ${goals.rssUnderBytes / 1e6} MB) ${goals.rssMet ? 'met' : 'MISSED'}`,
    )
  }
  return summary
}

function summarize(runs: RunRecord[], bytes: number): ToolSummary {
  const medianSeconds = median(runs.map((r) => r.seconds))
  return {
    runs,
    medianSeconds,
    medianMBps: mbps(bytes, medianSeconds),
    medianCpuSeconds: median(runs.map((r) => r.cpuSeconds)),
    peakRssBytes: Math.max(...runs.map((r) => r.maxRssBytes)),
    medianRequests: median(runs.map((r) => r.requests)),
  }
}
