/**
 * Where a process spent its CPU, from a V8 `.cpuprofile` (`node --cpu-prof`): self time summed by function
 * and script, the largest first, over the whole profile or a window of it.
 *   node scripts/bench/cpu-profile-summary.ts FILE.cpuprofile [--top 15] [--from-us US --to-us US]
 * (the window on the clock of `process.hrtime`, as the benchmarks' JSON gives a case's `timedUs`)
 */
import { readFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'

/** The parts of the V8 CPU profile format read here. */
interface CpuProfile {
  /** Microseconds on the monotonic clock of process.hrtime (the same clock on Linux). */
  startTime: number
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[]
  /** The node on top of the stack at each sample. */
  samples: number[]
  /** Microseconds between each sample and the one before it. */
  timeDeltas: number[]
}

export interface SelfTime {
  /** `name (script:line)`; `(garbage collector)` and `(program)` are V8's own. */
  fn: string
  ms: number
  /** Share of the busy (not idle) time. */
  percent: number
}

export interface ProfileSummary {
  /** Sampled time on the CPU, and waiting (`(idle)`), in the window. */
  busyMs: number
  idleMs: number
  top: SelfTime[]
}

export interface SummarizeOptions {
  /** How many functions (default 15). */
  top?: number
  /** Only samples within [fromUs, toUs] of `process.hrtime.bigint() / 1000n` (default: all). */
  fromUs?: number
  toUs?: number
}

/** The functions with the most self time. */
export async function summarizeCpuProfile(
  path: string,
  options: SummarizeOptions = {},
): Promise<ProfileSummary> {
  const profile = JSON.parse(await readFile(path, 'utf8')) as CpuProfile
  const keyOf = new Map<number, string>()
  for (const { id, callFrame: f } of profile.nodes) {
    const name = f.functionName === '' ? '(anonymous)' : f.functionName
    keyOf.set(id, f.url === '' ? name : `${name} (${shortUrl(f.url)}:${f.lineNumber + 1})`)
  }
  const { fromUs = -Infinity, toUs = Infinity } = options
  const micros = new Map<string, number>()
  let idle = 0
  let busy = 0
  let at = profile.startTime
  // As DevTools does: a sample lasts until the next one, so it is charged the next sample's delta.
  for (let i = 0; i < profile.samples.length; i++) {
    at += profile.timeDeltas[i] ?? 0
    if (at < fromUs || at > toUs) continue
    const dt = profile.timeDeltas[i + 1] ?? 0
    const key = keyOf.get(profile.samples[i]) ?? '(unknown)'
    if (key === '(idle)') {
      idle += dt
      continue
    }
    micros.set(key, (micros.get(key) ?? 0) + dt)
    busy += dt
  }
  const top = [...micros]
    .sort((a, b) => b[1] - a[1])
    .slice(0, options.top ?? 15)
    .map(([fn, us]) => ({ fn, ms: us / 1000, percent: busy === 0 ? 0 : (100 * us) / busy }))
  return { busyMs: busy / 1000, idleMs: idle / 1000, top }
}

/** The summary as lines of text. */
export function formatProfileSummary(summary: ProfileSummary): string[] {
  return [
    `${summary.busyMs.toFixed(0)} ms on the CPU, ${summary.idleMs.toFixed(0)} ms idle; self time:`,
    ...summary.top.map(
      (row) => `${row.ms.toFixed(0).padStart(8)} ms ${row.percent.toFixed(1).padStart(5)}%  ${row.fn}`,
    ),
  ]
}

/** The path from node_modules or src on, which is what tells one library from another. */
function shortUrl(url: string): string {
  const path = url.replace(/^file:\/\//, '')
  const at = Math.max(path.lastIndexOf('/node_modules/'), path.indexOf('/src/'), path.indexOf('/scripts/'))
  return at >= 0 ? path.slice(at + 1) : path
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    options: {
      top: { type: 'string', default: '15' },
      'from-us': { type: 'string' },
      'to-us': { type: 'string' },
    },
    allowPositionals: true,
    strict: true,
  })
  if (positionals.length !== 1) {
    console.error('usage: cpu-profile-summary.ts FILE.cpuprofile [--top 15] [--from-us US --to-us US]')
    process.exit(2)
  }
  const summary = await summarizeCpuProfile(positionals[0], {
    top: Number(values.top),
    fromUs: values['from-us'] === undefined ? undefined : Number(values['from-us']),
    toUs: values['to-us'] === undefined ? undefined : Number(values['to-us']),
  })
  for (const line of formatProfileSummary(summary)) console.log(line)
}
