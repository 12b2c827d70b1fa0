import { median, printTable } from './bench-table.ts'

/** The goal: a pull from a peer moves bytes at >= 0.9x a raw libp2p stream. */
export const GOAL_RATIO_TO_RAW = 0.9

export type MethodKey = 'ours' | 'raw' | 'curl' | 'hub'

export const METHOD_LABELS: Record<MethodKey, string> = {
  ours: 'hffs-node model add, A -> B',
  raw: 'raw libp2p stream',
  curl: 'curl <- node:http static',
  hub: '@huggingface/hub downloadFileToCacheDir <- mock Hub',
}

/** One timed transfer. "Sender": daemon A, the stream sender, the HTTP server; "receiver": the other end. */
export interface RunRecord {
  seconds: number
  bytes: number
  cpuSender: number
  cpuReceiver: number
  /** Largest VmRSS of the sender sampled every 100 ms over the transfer (it was running before). */
  rssSender: number
  /** Peak RSS of the receiver over its whole life (a fresh process per run). */
  rssReceiver: number
}

export interface MethodSummary {
  method: MethodKey
  label: string
  runs: RunRecord[]
  medianSeconds: number
  medianMBps: number
  medianMiBps: number
  ratioToRaw: number | null
  medianCpuSender: number
  medianCpuReceiver: number
  peakRssSender: number
  peakRssReceiver: number
}

export function summarize(results: Map<MethodKey, RunRecord[]>): MethodSummary[] {
  const raw = results.get('raw')
  const rawMBps = raw === undefined ? null : rate(raw, 1e6)
  return [...results].map(([method, runs]) => {
    const mbps = rate(runs, 1e6)
    return {
      method,
      label: METHOD_LABELS[method],
      runs,
      medianSeconds: median(runs.map((r) => r.seconds)),
      medianMBps: mbps,
      medianMiBps: rate(runs, 2 ** 20),
      ratioToRaw: rawMBps === null ? null : mbps / rawMBps,
      medianCpuSender: median(runs.map((r) => r.cpuSender)),
      medianCpuReceiver: median(runs.map((r) => r.cpuReceiver)),
      peakRssSender: Math.max(...runs.map((r) => r.rssSender)),
      peakRssReceiver: Math.max(...runs.map((r) => r.rssReceiver)),
    }
  })
}

/** Median of the per-run rates, in `unit` bytes per second. */
function rate(runs: readonly RunRecord[], unit: number): number {
  return median(runs.map((r) => r.bytes / unit / r.seconds))
}

export function printReport(summary: readonly MethodSummary[]): void {
  console.log()
  printTable(
    summary.map((s) => ({
      method: s.label,
      'median s': s.medianSeconds,
      'MB/s': s.medianMBps,
      'MiB/s': s.medianMiBps,
      'vs raw': s.ratioToRaw === null ? '-' : `${s.ratioToRaw.toFixed(2)}x`,
      'CPU s send': s.medianCpuSender,
      'CPU s recv': s.medianCpuReceiver,
      'RSS MB send': s.peakRssSender / 1e6,
      'RSS MB recv': s.peakRssReceiver / 1e6,
    })),
  )
  console.log(
    '\nmedians of the runs; MB = 10^6 bytes; the pull moves the whole repo, the baselines its two shards;' +
      ' CPU s = user + system over the transfer (/proc; GNU time for curl and the hub child); RSS send =' +
      " peak VmRSS sampled every 100 ms; RSS recv = the fresh receiver's peak (VmHWM; GNU time's %M)",
  )
  const ours = summary.find((s) => s.method === 'ours')
  if (ours?.ratioToRaw !== null && ours?.ratioToRaw !== undefined) {
    const met = ours.ratioToRaw >= GOAL_RATIO_TO_RAW
    console.log(
      `goal: pull >= ${GOAL_RATIO_TO_RAW}x the raw libp2p stream: ${ours.ratioToRaw.toFixed(2)}x ${met ? 'met' : 'MISSED'}`,
    )
  }
}
