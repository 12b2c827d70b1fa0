/**
 * Xet chunk + hash throughput on random data: ours (XetChunker with and without workers), the
 * boundary scan alone, and @huggingface/xetchunk-wasm's getChunks as the baseline. Runs are
 * interleaved so that machine noise hits every variant alike.
 *
 *   node scripts/bench/chunk.ts [--size-mib N] [--runs R] [--block-mib B]
 */
import { randomFillSync } from 'node:crypto'
import { availableParallelism, cpus } from 'node:os'
import { parseArgs } from 'node:util'
import { getChunks } from '@huggingface/xetchunk-wasm'
import { ChunkBoundaryScanner, hashToHex, XetChunker, type ChunkInfo } from '../../src/store/xet/index.ts'
import { median, printTable, writeJson } from './bench-table.ts'

const { values } = parseArgs({
  options: {
    'size-mib': { type: 'string', default: '1024' },
    runs: { type: 'string', default: '3' },
    'block-mib': { type: 'string', default: '16' },
  },
})
const sizeBytes = Number(values['size-mib']) * 2 ** 20
const runs = Number(values.runs)
const blockBytes = Number(values['block-mib']) * 2 ** 20
if (!(sizeBytes > 0 && runs > 0 && blockBytes > 0))
  throw new Error('--size-mib, --runs and --block-mib must be > 0')

function randomData(size: number): Uint8Array {
  const data = new Uint8Array(size)
  for (let at = 0; at < size; at += 2 ** 28) randomFillSync(data, at, Math.min(2 ** 28, size - at))
  return data
}

interface Variant {
  name: string
  /** Returns the chunk end offsets, and the hashes where the variant computes them. */
  run: () => Promise<{ ends: number[]; hashes?: string[] }>
}

async function chunkWith(chunker: XetChunker, data: Uint8Array): Promise<ChunkInfo[]> {
  chunker.reset()
  const chunks: ChunkInfo[] = []
  for (let at = 0; at < data.length; at += blockBytes)
    chunks.push(...(await chunker.push(data.subarray(at, at + blockBytes))))
  return chunks.concat(await chunker.finish())
}

function describeChunks(chunks: readonly { length: number; hash: Uint8Array }[]): {
  ends: number[]
  hashes: string[]
} {
  let end = 0
  return { ends: chunks.map((c) => (end += c.length)), hashes: chunks.map((c) => hashToHex(c.hash)) }
}

const started = performance.now()
const data = randomData(sizeBytes)
console.log(
  `${(sizeBytes / 2 ** 20).toFixed(0)} MiB of random data in ${(performance.now() - started).toFixed(0)} ms`,
)

// The pooled pipeline (the default only with the wasm BLAKE3 fallback), against hashing on this thread.
const workers = Math.min(2, availableParallelism())
let t = performance.now()
const pooled = await XetChunker.create({ workers })
const startupMs = performance.now() - t
const inline = await XetChunker.create({ workers: 0 })

const variants: Variant[] = [
  { name: `ours, ${workers} workers`, run: async () => describeChunks(await chunkWith(pooled, data)) },
  { name: 'ours, workers: 0', run: async () => describeChunks(await chunkWith(inline, data)) },
  { name: 'xetchunk-wasm getChunks', run: async () => describeChunks(getChunks(data)) },
  {
    name: 'ours, boundary scan only',
    run: async () => {
      const scanner = new ChunkBoundaryScanner()
      const ends: number[] = []
      for (let at = 0; at < data.length; at += blockBytes)
        scanner.scan(data.subarray(at, at + blockBytes), ends)
      return { ends: ends.concat(scanner.finish()) }
    },
  },
]

const mbps = variants.map((): number[] => [])
// CPU seconds of all threads per GiB: unlike MB/s, barely moved by other load on the machine.
const cpuPerGiB = variants.map((): number[] => [])
const outputs: { ends: number[]; hashes?: string[] }[] = []
for (let run = 0; run < runs; run++) {
  for (const [i, variant] of variants.entries()) {
    t = performance.now()
    const cpu = process.cpuUsage()
    outputs[i] = await variant.run()
    const seconds = (performance.now() - t) / 1000
    const used = process.cpuUsage(cpu)
    mbps[i].push(sizeBytes / 1e6 / seconds)
    cpuPerGiB[i].push((used.user + used.system) / 1e6 / (sizeBytes / 2 ** 30))
    console.log(`run ${run + 1}/${runs} ${variant.name}: ${mbps[i].at(-1)?.toFixed(0)} MB/s`)
  }
}
await Promise.all([pooled.close(), inline.close()])

const [oursPooled, oursInline, baseline, scanOnly] = outputs
const sameAsInline =
  JSON.stringify(oursPooled.ends) === JSON.stringify(oursInline.ends) &&
  JSON.stringify(oursPooled.hashes) === JSON.stringify(oursInline.hashes)
const scanAgrees = JSON.stringify(scanOnly.ends) === JSON.stringify(oursInline.ends)
const ourEnds = new Set(oursInline.ends)
const theirEnds = new Set(baseline.ends)
const onlyOurs = oursInline.ends.filter((end) => !theirEnds.has(end)).length
const onlyTheirs = baseline.ends.filter((end) => !ourEnds.has(end)).length
const baselineMedian = median(mbps[2])

const results = variants.map((variant, i) => ({
  name: variant.name,
  mbPerSecond: mbps[i].map((x) => Math.round(x)),
  median: Math.round(median(mbps[i])),
  min: Math.round(Math.min(...mbps[i])),
  max: Math.round(Math.max(...mbps[i])),
  ratioToXetchunkWasm: Number((median(mbps[i]) / baselineMedian).toFixed(2)),
  cpuSecondsPerGiB: Number(median(cpuPerGiB[i]).toFixed(2)),
}))

console.log()
printTable(
  results.map((r) => ({
    variant: r.name,
    'MB/s median': r.median,
    min: r.min,
    max: r.max,
    'vs xetchunk-wasm': `${r.ratioToXetchunkWasm.toFixed(2)}x`,
    'CPU s/GiB': r.cpuSecondsPerGiB.toFixed(2),
  })),
)
console.log(`worker start-up: ${startupMs.toFixed(0)} ms (not in the figures); MB = 10^6 bytes`)
console.log(`chunks: ours ${oursInline.ends.length}, xetchunk-wasm ${baseline.ends.length}`)
console.log(
  `boundaries only in ours: ${onlyOurs}, only in xetchunk-wasm: ${onlyTheirs} (its chunker predates #487)`,
)
console.log(`workers vs workers: 0 identical: ${sameAsInline}; scan-only boundaries identical: ${scanAgrees}`)

const report = {
  date: new Date().toISOString(),
  node: process.version,
  cpu: cpus()[0]?.model,
  availableParallelism: availableParallelism(),
  sizeMiB: sizeBytes / 2 ** 20,
  blockMiB: blockBytes / 2 ** 20,
  runs,
  workerStartupMs: Math.round(startupMs),
  results,
  chunks: { ours: oursInline.ends.length, xetchunkWasm: baseline.ends.length },
  boundaryDisagreements: { onlyOurs, onlyXetchunkWasm: onlyTheirs },
  workersMatchInline: sameAsInline,
  scanOnlyMatches: scanAgrees,
}
writeJson('bench-results/chunk.json', report)
if (!sameAsInline || !scanAgrees) process.exitCode = 1
