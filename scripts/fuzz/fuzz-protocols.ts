/**
 * A longer fuzz run of the four hffs wire protocols than the one in CI (test/protocols/fuzz.spec.ts).
 *   node scripts/fuzz/fuzz-protocols.ts [--messages 10000] [--seconds 300] [--seed 1] [--concurrency 8]
 *     [--target MULTIADDR]
 * Without --target it starts a daemon of its own (temp home, 127.0.0.1 only, no mDNS, HFFS debug log on) over
 * a cache holding one 4 MiB blob, sends `messages` hostile messages to each protocol from an in-process
 * libp2p node (random frames, valid messages with bytes flipped, truncated, fields of the wrong type, huge
 * and malformed length prefixes, streams closed or reset mid-message, slow streams, answers never read),
 * then checks that the same daemon process still answers `status` and serves a well-behaved peer the right
 * bytes. Its log is kept in the printed folder. With --target (a running daemon's /ip4/127.0.0.1/tcp/PORT
 * listen address from `hffs-node status`, then /p2p/ and its peer id) only the fuzz runs. Exits 1 when a
 * check fails.
 */
import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { ChunkBoundaryScanner, chunkHash, initXet } from '../../src/store/xet/index.ts'
import { writeFakeRepo } from '../../test/helpers/fake-cache.ts'
import { startBenchDaemon, type BenchDaemon } from '../bench/bench-daemon.ts'
import {
  createHostileNode,
  formatTallies,
  pullKnownChunks,
  runFuzzCampaign,
  type KnownContent,
} from './campaign.ts'

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '10000' },
    seconds: { type: 'string', default: '300' },
    seed: { type: 'string', default: '1' },
    concurrency: { type: 'string', default: '8' },
    target: { type: 'string' },
  },
})
const messages = Number(values.messages)
const seconds = Number(values.seconds)
if (!Number.isInteger(messages) || messages < 1 || !(seconds > 0)) {
  console.error('usage: --messages N (>= 1) --seconds T (> 0)')
  process.exit(2)
}

const COMMIT = 'f'.repeat(40)

/** A daemon over a cache with one blob, and what a well-behaved peer may ask it for. */
async function startTarget(): Promise<{ daemon: BenchDaemon; known: KnownContent; data: Buffer }> {
  const dir = await mkdtemp(join(tmpdir(), 'hffs-fuzz-'))
  const data = randomBytes(4 * 1024 * 1024)
  await writeFakeRepo(join(dir, 'hub-cache'), 'models--fuzz--m', COMMIT, [
    { path: 'model.safetensors', data, lfs: true },
  ])
  process.env.DEBUG = 'hffs:*' // every stream the daemon aborts is logged, one line each
  const daemon = await startBenchDaemon({ dir, hubUrl: 'http://127.0.0.1:9' })
  console.log(`target: daemon ${daemon.pid} in ${dir} (log: ${join(daemon.home, 'daemon.log')})`)
  const deadline = Date.now() + 60_000
  for (;;) {
    const status = JSON.parse(await daemon.cli(['status', '--json'])) as { blobs: { shared: number } }
    if (status.blobs.shared >= 1) break
    if (Date.now() > deadline) throw new Error('the target did not index its cache within 60 s')
    await new Promise((r) => setTimeout(r, 200))
  }
  await initXet()
  const scanner = new ChunkBoundaryScanner()
  const ends = [...scanner.push(data), ...scanner.finish()]
  const chunkHashes = ends.map((end, i) => chunkHash(data.subarray(i === 0 ? 0 : ends[i - 1], end)))
  const etag = createHash('sha256').update(data).digest('hex')
  return { daemon, known: { repoId: 'fuzz/m', revision: 'main', etag, chunkHashes }, data }
}

async function main(): Promise<number> {
  const own = values.target === undefined ? await startTarget() : null
  const target: Multiaddr[] =
    own === null
      ? [multiaddr(values.target as string)]
      : [multiaddr(`/ip4/127.0.0.1/tcp/${own.daemon.libp2pPort}/p2p/${own.daemon.peerId}`)]
  const known: KnownContent = own?.known ?? {
    repoId: 'fuzz/m',
    revision: 'main',
    etag: '0'.repeat(64),
    chunkHashes: [new Uint8Array(32)],
  }
  const hostile = await createHostileNode()
  let failures = 0
  try {
    console.log(`fuzzing ${target[0].toString()}: ${messages} messages per protocol, at most ${seconds} s`)
    const tallies = await runFuzzCampaign(hostile, {
      target,
      known,
      messages,
      seconds,
      concurrency: Number(values.concurrency),
      seed: Number(values.seed),
    })
    console.log(formatTallies(tallies))
    for (const t of tallies) {
      const stuck = t.outcomes['gave-up'] ?? 0
      if (stuck > 0) {
        console.log(`FAIL ${t.protocol}: ${stuck} streams the target never ended`)
        failures++
      }
    }
    if (own !== null) {
      try {
        process.kill(own.daemon.pid, 0)
        await own.daemon.cli(['status', '--json'])
        console.log(`ok   daemon ${own.daemon.pid} alive and answering status`)
      } catch (err) {
        console.log(`FAIL the daemon is gone or does not answer: ${(err as Error).message}`)
        failures++
      }
      const chunks = await pullKnownChunks(target, own.known).catch((err: Error) => err)
      if (chunks instanceof Error || !Buffer.concat(chunks).equals(own.data)) {
        console.log(
          `FAIL a well-behaved peer's pull: ${chunks instanceof Error ? chunks.message : 'wrong bytes'}`,
        )
        failures++
      } else {
        console.log(`ok   a well-behaved peer pulled ${own.data.byteLength} bytes, identical`)
      }
    }
  } finally {
    for (const connection of hostile.getConnections()) connection.abort(new Error('fuzz over'))
    await hostile.stop()
    await own?.daemon.stop()
  }
  return failures === 0 ? 0 : 1
}

process.exit(await main())
