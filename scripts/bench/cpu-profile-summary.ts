/**
 * Where a process spent its CPU, from a V8 `.cpuprofile` (`node --cpu-prof`): self time summed by function
 * and script, the largest first.
 *   node scripts/bench/cpu-profile-summary.ts FILE.cpuprofile [--top 15]
 */
import { readFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'

/** The parts of the V8 CPU profile format read here. */
interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[]
  /** The node on top of the stack at each sample. */
  samples: number[]
  /** Microseconds between each sample and the one before it. */
  timeDeltas: number[]
}

export interface SelfTime {
  /** `name (script:line)`; `(garbage collector)`, `(program)` and `(idle)` are V8's own. */
  fn: string
  ms: number
  /** Share of all sampled time, idle included. */
  percent: number
}

/** The `top` functions by self time. */
export async function summarizeCpuProfile(path: string, top = 15): Promise<SelfTime[]> {
  const profile = JSON.parse(await readFile(path, 'utf8')) as CpuProfile
  const keyOf = new Map<number, string>()
  for (const { id, callFrame: f } of profile.nodes) {
    const name = f.functionName === '' ? '(anonymous)' : f.functionName
    keyOf.set(id, f.url === '' ? name : `${name} (${shortUrl(f.url)}:${f.lineNumber + 1})`)
  }
  const micros = new Map<string, number>()
  let total = 0
  // As DevTools does: a sample lasts until the next one, so it is charged the next sample's delta.
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = profile.timeDeltas[i + 1] ?? 0
    const key = keyOf.get(profile.samples[i]) ?? '(unknown)'
    micros.set(key, (micros.get(key) ?? 0) + dt)
    total += dt
  }
  return [...micros]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([fn, us]) => ({ fn, ms: us / 1000, percent: total === 0 ? 0 : (100 * us) / total }))
}

/** The path from node_modules or src on, which is what tells one library from another. */
function shortUrl(url: string): string {
  const path = url.replace(/^file:\/\//, '')
  const at = Math.max(path.lastIndexOf('/node_modules/'), path.indexOf('/src/'), path.indexOf('/scripts/'))
  return at >= 0 ? path.slice(at + 1) : path
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    options: { top: { type: 'string', default: '15' } },
    allowPositionals: true,
    strict: true,
  })
  if (positionals.length !== 1) {
    console.error('usage: cpu-profile-summary.ts FILE.cpuprofile [--top 15]')
    process.exit(2)
  }
  for (const row of await summarizeCpuProfile(positionals[0], Number(values.top)))
    console.log(`${row.ms.toFixed(0).padStart(8)} ms ${row.percent.toFixed(1).padStart(5)}%  ${row.fn}`)
}
