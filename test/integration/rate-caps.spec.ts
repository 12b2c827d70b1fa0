import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { startMockHub, type MockHub } from '../../scripts/mock-hub/index.ts'
import { useDaemonHomes } from '../cli/daemon-helpers.ts'
import { writeMockBranch } from '../helpers/mock-repos.ts'
import { useTmpDir } from '../helpers/tmp-dir.ts'
import {
  bytesWritten,
  connect,
  modelAdd,
  sampleDownload,
  snapshotFile,
  startNode,
  transferRates,
  type SwarmNode,
  type TransferSample,
} from './swarm-nodes.ts'

/** The upload cap under test: 4 MB/s, so that ~10 s of transfer is ~40 MB on a busy 2-core machine. */
const UPLOAD_RATE = 4_000_000
/**
 * 3 leechers pull this from the capped seeder at once: 10 s at UPLOAD_RATE if they split it into shares
 * and trade the rest among themselves (they find each other only through the seeder's DHT, mid-pull), 30 s
 * if each took all of it from the seeder. Measured: 86 MB uploaded in 21 s.
 */
const MODEL_BYTES = 40_000_000
/** The download cap: the same model from 3 seeders in ~10 s (no second model to seed first). */
const DOWNLOAD_RATE = 4_000_000

/** Samples the bytes a node's process writes (sockets included) every `everyMs` until `done` settles. */
async function sampleUpload(
  node: SwarmNode,
  done: Promise<unknown>,
  everyMs = 100,
): Promise<TransferSample[]> {
  let settled = false
  void done.finally(() => (settled = true)).catch(() => {})
  const base = await bytesWritten(node)
  const samples: TransferSample[] = []
  while (!settled) {
    samples.push({ seconds: performance.now() / 1000, bytes: (await bytesWritten(node)) - base })
    await new Promise((r) => setTimeout(r, everyMs))
  }
  samples.push({ seconds: performance.now() / 1000, bytes: (await bytesWritten(node)) - base })
  return samples
}

/**
 * The rate between the first sample past `edge` bytes and the first within `edge` of the total: the bulk
 * of the transfer, without the idle chatter (DHT, identify, pings) before and after it.
 */
function bulkRate(
  samples: readonly TransferSample[],
  edge: number,
): { bytes: number; seconds: number; rate: number } {
  const total = samples[samples.length - 1].bytes
  const first = samples.find((s) => s.bytes >= edge)
  const last = samples.find((s) => s.bytes >= total - edge)
  assert.ok(
    first !== undefined && last !== undefined && last.seconds > first.seconds,
    JSON.stringify(samples),
  )
  const seconds = last.seconds - first.seconds
  return { bytes: last.bytes - first.bytes, seconds, rate: (last.bytes - first.bytes) / seconds }
}

describe('rate caps under load from many peers (issue 8)', function () {
  this.timeout(180_000)
  const tmp = useTmpDir()
  const home = useDaemonHomes()
  let hub: MockHub | undefined
  afterEach(async () => {
    await hub?.close()
    hub = undefined
  })

  it('--max-upload-rate with 3 leechers at once, and --max-download-rate from 3 seeders, hold within 10% over ~10 s', async () => {
    const up = randomBytes(MODEL_BYTES)
    const root = join(tmp(), 'mock')
    await writeMockBranch(root, 'models/org/up', 'main', { 'model.safetensors': up })
    hub = await startMockHub({ root })
    const url = hub.url
    const start = (name: string, extra: string[] = []): Promise<SwarmNode> =>
      startNode({ ...home(name), HF_ENDPOINT: url, HF_TOKEN: '' }, extra)
    const [seeder, l1, l2, l3, capped] = await Promise.all([
      start('seeder', ['--max-upload-rate', String(UPLOAD_RATE)]),
      start('l1'),
      start('l2'),
      start('l3'),
      start('capped', ['--max-download-rate', String(DOWNLOAD_RATE)]),
    ])
    const leechers = [l1, l2, l3]
    await modelAdd(seeder, 'org/up')

    // Upload: the three leechers pull org/up at once; only the capped seeder has it.
    for (const l of leechers) await connect(l, seeder)
    const pulls = Promise.all(leechers.map((l) => modelAdd(l, 'org/up')))
    const upSamples = await sampleUpload(seeder, pulls)
    const results = await pulls
    for (const [i, r] of results.entries()) {
      assert.ok((await snapshotFile(leechers[i], 'org/up', r, 'model.safetensors')).equals(up))
    }
    const fromSeeder = results.reduce((n, r) => n + (r.bytesByPeer[seeder.peerId] ?? 0), 0)
    const u = bulkRate(upSamples, 256 * 1024)
    console.log(
      `      upload cap, 3 leechers: ${u.bytes} bytes in ${u.seconds.toFixed(2)} s = ${(u.rate / 1e6).toFixed(3)} MB/s ` +
        `(ratio ${(u.rate / UPLOAD_RATE).toFixed(3)}); ${fromSeeder} chunk bytes from the seeder`,
    )
    assert.ok(u.seconds >= 8, `only ${u.seconds.toFixed(2)} s of upload`)
    assert.ok(
      u.rate >= 0.9 * UPLOAD_RATE && u.rate <= 1.1 * UPLOAD_RATE,
      `upload ${(u.rate / 1e6).toFixed(3)} MB/s`,
    )

    // Download: the capped leecher pulls org/up from the three leechers, now seeders.
    for (const s of leechers) await connect(capped, s)
    const pulling = modelAdd(capped, 'org/up')
    const downSamples = await sampleDownload(capped, pulling)
    const r = await pulling
    assert.ok((await snapshotFile(capped, 'org/up', r, 'model.safetensors')).equals(up))
    const senders = leechers.filter((s) => (r.bytesByPeer[s.peerId] ?? 0) > 0).length
    const d = transferRates(downSamples, 3)
    console.log(
      `      download cap, ${senders} seeders: ${d.bytes} bytes in ${d.seconds.toFixed(2)} s = ` +
        `${(d.rate / 1e6).toFixed(3)} MB/s (ratio ${(d.rate / DOWNLOAD_RATE).toFixed(3)}), peak over 3 s ${(d.peakRate / 1e6).toFixed(3)} MB/s`,
    )
    assert.ok(senders >= 2, `the load came from several seeders: ${JSON.stringify(r.bytesByPeer)}`)
    assert.ok(d.seconds >= 8, `only ${d.seconds.toFixed(2)} s of download`)
    assert.ok(
      d.rate >= 0.9 * DOWNLOAD_RATE && d.rate <= 1.1 * DOWNLOAD_RATE,
      `download ${(d.rate / 1e6).toFixed(3)} MB/s`,
    )
  })
})
