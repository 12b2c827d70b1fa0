import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { controlRequest, startDaemonCli, waitFor, type DaemonEnv } from '../cli/daemon-helpers.ts'
import { runCli } from '../helpers/run-cli.ts'
import { ChunkBoundaryScanner } from '../../src/store/xet/index.ts'

/** A daemon started by a test, on 127.0.0.1. */
export interface SwarmNode {
  env: DaemonEnv
  pid: number
  libp2pPort: number
  peerId: string
}

/** What `model add --json` prints. */
export interface PullResultJson {
  commit: string
  origin: string
  files: { path: string; source: string }[]
  bytesFetched: number
  bytesFromPeers: number
  bytesFromHub: number
  bytesByPeer: Record<string, number>
}

/** Starts a daemon in `env` (loopback, no mDNS, see START_ARGS); its peer id and port from daemon.json. */
export async function startNode(env: DaemonEnv, extra: string[] = []): Promise<SwarmNode> {
  const r = await startDaemonCli(env, extra)
  assert.equal(r.code, 0, r.stdout + r.stderr)
  const info = JSON.parse(await readFile(join(env.HFFS_HOME, 'daemon.json'), 'utf8')) as {
    pid: number
    peerId: string
    listen: string[]
  }
  const addr = info.listen.find((a) => a.startsWith('/ip4/127.0.0.1/tcp/')) as string
  return { env, pid: info.pid, libp2pPort: Number(addr.split('/')[4]), peerId: info.peerId }
}

/**
 * Adds `to` as a peer of `from` (the control API under `peer add`) and waits until they are connected (a dial
 * that timed out on a busy machine is retried by the daemon).
 */
export async function connect(from: SwarmNode, to: SwarmNode): Promise<void> {
  const r = await controlRequest(from.env.HFFS_HOME, 'POST', '/v1/peers', {
    body: { addr: '127.0.0.1', port: to.libp2pPort },
  })
  assert.equal(r.status, 201, JSON.stringify(r.body))
  await waitFor(
    `${from.env.HFFS_HOME} connected to ${to.peerId} (${JSON.stringify(r.body)})`,
    20_000,
    async () => ((await isConnected(from, to)) ? true : undefined),
  )
}

export async function isConnected(from: SwarmNode, to: SwarmNode): Promise<boolean> {
  const peers = (await controlRequest(from.env.HFFS_HOME, 'GET', '/v1/peers')).body as {
    peerId: string
    connected: boolean
  }[]
  return peers.some((p) => p.peerId === to.peerId && p.connected)
}

/** `model add --json`, as a user runs it; fails the test unless it exits 0. */
export async function modelAdd(node: SwarmNode, repo: string, extra: string[] = []): Promise<PullResultJson> {
  const r = await runCli(['model', 'add', repo, '--json', ...extra], node.env, 150_000)
  assert.equal(r.code, 0, r.stderr)
  return JSON.parse(r.stdout) as PullResultJson
}

/** The bytes of `file` in the snapshot a pull linked, read where any HF library would find them. */
export async function snapshotFile(
  node: SwarmNode,
  repo: string,
  pulled: PullResultJson,
  file: string,
): Promise<Buffer> {
  const dir = join(node.env.HF_HUB_CACHE, `models--${repo.replaceAll('/', '--')}`, 'snapshots', pulled.commit)
  return readFile(join(dir, file))
}

/** The persisted chunk bitmap of the download of blob `etag` in `home` (downloads/<etag>.chunks.json). */
export async function downloadBits(home: string, etag: string): Promise<Uint8Array | undefined> {
  try {
    const text = await readFile(join(home, 'downloads', `${etag}.chunks.json`), 'utf8')
    const saved = JSON.parse(text) as { bits: string }
    return Buffer.from(saved.bits, 'base64')
  } catch {
    return undefined // not there (yet, or any more)
  }
}

/** The Xet chunk lengths of `data`, in file order (the manifest's chunks, for content without repeats). */
export function chunkLengths(data: Uint8Array): number[] {
  const scanner = new ChunkBoundaryScanner()
  const ends = [...scanner.push(data), ...scanner.finish()]
  return ends.map((end, i) => end - (i === 0 ? 0 : ends[i - 1]))
}

/** Bytes covered by the chunks whose bits are set. */
export function bytesOfSetChunks(bits: Uint8Array, lengths: readonly number[]): number {
  let n = 0
  lengths.forEach((len, i) => {
    if ((bits[i >> 3] & (1 << (i & 7))) !== 0) n += len
  })
  return n
}

/** Polls `check` every `everyMs` until it returns a value other than undefined, for at most `ms`. */
export async function pollFor<T>(
  what: string,
  ms: number,
  everyMs: number,
  check: () => Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    const v = await check()
    if (v !== undefined) return v
    await new Promise((r) => setTimeout(r, everyMs))
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`)
}

/** Bytes the node's process has written with write-like syscalls (sockets included): /proc/<pid>/io wchar. */
export async function bytesWritten(node: SwarmNode): Promise<number> {
  const io = await readFile(`/proc/${node.pid}/io`, 'utf8')
  return Number(/^wchar: (\d+)$/m.exec(io)?.[1])
}

/** bytesDone of a node's download in progress, at a time in seconds. */
export interface TransferSample {
  seconds: number
  bytes: number
}

/**
 * Samples the node's download in progress (GET /v1/status, `transfers`) every `everyMs` until `done`
 * settles: the daemon's own count of bytes received, without the CLI's start-up and the snapshot lookup.
 */
export async function sampleDownload(
  node: SwarmNode,
  done: Promise<unknown>,
  everyMs = 200,
): Promise<TransferSample[]> {
  let settled = false
  void done.finally(() => (settled = true)).catch(() => {})
  const samples: TransferSample[] = []
  while (!settled) {
    const status = (await controlRequest(node.env.HFFS_HOME, 'GET', '/v1/status')).body as {
      transfers: { direction: string; bytesDone: number }[]
    }
    const download = status.transfers.find((t) => t.direction === 'download')
    if (download !== undefined) samples.push({ seconds: performance.now() / 1000, bytes: download.bytesDone })
    await new Promise((r) => setTimeout(r, everyMs))
  }
  return samples
}

/** The rate between the first sample with bytes and the last one, and the highest over `windowS` seconds. */
export function transferRates(
  samples: readonly TransferSample[],
  windowS: number,
): { seconds: number; bytes: number; rate: number; peakRate: number } {
  const moving = samples.filter((s) => s.bytes > 0)
  assert.ok(moving.length >= 2, `too few samples of the transfer: ${JSON.stringify(samples)}`)
  const first = moving[0]
  const last = moving[moving.length - 1]
  let peakRate = 0
  for (const [i, a] of moving.entries()) {
    const b = moving.slice(i).find((s) => s.seconds - a.seconds >= windowS)
    if (b !== undefined) peakRate = Math.max(peakRate, (b.bytes - a.bytes) / (b.seconds - a.seconds))
  }
  const seconds = last.seconds - first.seconds
  return { seconds, bytes: last.bytes - first.bytes, rate: (last.bytes - first.bytes) / seconds, peakRate }
}
