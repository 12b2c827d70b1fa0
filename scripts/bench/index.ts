/**
 * Benchmark: indexing an HF cache into the shard index.
 *   node scripts/bench/index.ts [--gib 2] [--files 8] [--small 1000] [--runs 3]
 * 1. A cache of `files` blobs totalling `gib` GiB: first index (chunk + hash + etag verify) throughput,
 *    against a baseline in the same run: sha256 alone over the same files (what any verifier must pay).
 * 2. The re-run over the unchanged cache, and over a cache of `small` small files: time to notice nothing
 *    changed (goal: under a second for 1,000 files).
 */
import { createHash, randomFillSync } from 'node:crypto'
import { mkdtemp, open, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { indexHubCache } from '../../src/store/index-db/index-hub-cache.ts'
import { ShardIndex } from '../../src/store/index-db/shard-index.ts'
import { initXet, XetChunker } from '../../src/store/xet/index.ts'
import { randomCommit, writeFakeRepo } from '../../test/helpers/fake-cache.ts'
import { median, printTable, writeJson } from './bench-table.ts'

const { values } = parseArgs({
  options: {
    gib: { type: 'string', default: '2' },
    files: { type: 'string', default: '8' },
    small: { type: 'string', default: '1000' },
    runs: { type: 'string', default: '3' },
  },
})
const totalBytes = Math.round(Number(values.gib) * 1024 ** 3)
const nFiles = Number(values.files)
const nSmall = Number(values.small)
const runs = Number(values.runs)

await initXet()
const root = await mkdtemp(join(tmpdir(), 'hffs-bench-index-'))
try {
  const cacheDir = join(root, 'hub')
  console.log(`writing ${nFiles} files, ${(totalBytes / 1e9).toFixed(2)} GB, and ${nSmall} small files...`)
  const big = await writeBigRepo(cacheDir, totalBytes, nFiles)
  const smallFiles = Array.from({ length: nSmall }, (_, i) => ({
    path: `shard-${i}.json`,
    data: Buffer.from(`{"i": ${i}, "pad": "${'x'.repeat(i % 200)}"}`),
    lfs: false,
  }))
  await writeFakeRepo(cacheDir, 'datasets--bench--small', randomCommit(), smallFiles)

  const chunker = await XetChunker.create()
  const firstIndex: number[] = []
  const rerun: number[] = []
  const sha256Only: number[] = []
  for (let r = 0; r < runs; r++) {
    await rm(join(root, 'home'), { recursive: true, force: true })
    const index = ShardIndex.open(join(root, 'home', 'index.sqlite'))
    let t = performance.now()
    const report = await indexHubCache({ cacheDir, index, chunker })
    firstIndex.push((performance.now() - t) / 1000)
    if (report.corrupt.length > 0 || report.filesIndexed !== nFiles + nSmall)
      throw new Error('index run failed')
    t = performance.now()
    const again = await indexHubCache({ cacheDir, index, chunker })
    rerun.push((performance.now() - t) / 1000)
    if (again.bytesHashed !== 0) throw new Error('re-run rehashed bytes')
    index.close()
    t = performance.now()
    for (const p of big) await sha256File(p)
    sha256Only.push((performance.now() - t) / 1000)
  }
  await chunker.close()

  const mbps = (secs: number): number => totalBytes / 1e6 / secs
  const rows = [
    {
      measure: 'first index (chunk+hash+verify)',
      'median s': median(firstIndex),
      'MB/s': mbps(median(firstIndex)),
    },
    { measure: 'baseline: sha256 only', 'median s': median(sha256Only), 'MB/s': mbps(median(sha256Only)) },
    { measure: `re-run, unchanged (${nFiles + nSmall} files)`, 'median s': median(rerun), 'MB/s': '-' },
  ]
  printTable(rows)
  console.log(`\nindex vs sha256-only time ratio: ${(median(firstIndex) / median(sha256Only)).toFixed(2)}`)
  writeJson('bench-results/index.json', {
    bytes: totalBytes,
    files: nFiles,
    smallFiles: nSmall,
    runs,
    seconds: { firstIndex, rerun, sha256Only },
    medianMBps: { firstIndex: mbps(median(firstIndex)), sha256Only: mbps(median(sha256Only)) },
    rerunMedianSeconds: median(rerun),
  })
} finally {
  await rm(root, { recursive: true, force: true })
}

async function writeBigRepo(cacheDir: string, total: number, n: number): Promise<string[]> {
  const files = []
  const per = Math.floor(total / n)
  for (let i = 0; i < n; i++) {
    const data = Buffer.allocUnsafe(per)
    randomFillSync(data)
    files.push({ path: `model-${i}.safetensors`, data, lfs: true })
  }
  const etags = await writeFakeRepo(cacheDir, 'models--bench--big', randomCommit(), files)
  return [...etags.values()].map((e) => join(cacheDir, 'models--bench--big', 'blobs', e))
}

async function sha256File(path: string): Promise<string> {
  const fh = await open(path, 'r')
  const h = createHash('sha256')
  const buf = Buffer.allocUnsafe(8 * 1024 * 1024)
  try {
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, null)
      if (bytesRead === 0) break
      h.update(buf.subarray(0, bytesRead))
    }
  } finally {
    await fh.close()
  }
  return h.digest('hex')
}
