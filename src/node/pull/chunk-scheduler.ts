import { hashToHex } from '../../store/xet/index.ts'
import type { PeerSource } from './peer-source.ts'

export interface SchedulerOptions {
  /** Chunk hashes per request. */
  batchSize: number
  /** Requests in flight per peer. */
  window: number
  /** A peer is dropped after this many failed requests in a row. */
  maxFailures: number
  signal?: AbortSignal
}

interface PeerState {
  source: PeerSource
  inFlight: number
  failures: number
  dead: boolean
  /** Hashes this peer said it does not have. */
  missing: Set<string>
}

/**
 * Spreads the wanted chunks over the peers: each peer keeps `window` batches in flight; a chunk a peer lacks
 * goes to another; a peer that fails `maxFailures` times in a row, or sends a bad chunk, is dropped and its
 * chunks go back in the queue. Resolves with the hashes that no peer could supply.
 */
export async function scheduleChunks(
  wanted: Map<string, Uint8Array>,
  peers: readonly PeerSource[],
  options: SchedulerOptions,
  onChunk: (hash: Uint8Array, data: Uint8Array, peer: PeerSource) => Promise<void>,
  onPeerDropped?: (peer: PeerSource, err: unknown) => void,
): Promise<Map<string, Uint8Array>> {
  const pending = new Set(wanted.keys())
  const states: PeerState[] = peers.map((source) => ({
    source,
    inFlight: 0,
    failures: 0,
    dead: false,
    missing: new Set(),
  }))
  let running = 0
  let wake: () => void = () => {}
  /** A failure of ours (disk full, say), not the peer's: it ends the whole pull. */
  let fatal: { error: unknown } | null = null

  const pick = (peer: PeerState): string[] => {
    const batch: string[] = []
    for (const key of pending) {
      if (peer.missing.has(key)) continue
      batch.push(key)
      if (batch.length === options.batchSize) break
    }
    for (const key of batch) pending.delete(key)
    return batch
  }

  const run = async (peer: PeerState, batch: string[]): Promise<void> => {
    const unanswered = new Set(batch)
    try {
      const hashes = batch.map((k) => wanted.get(k) as Uint8Array)
      for await (const reply of peer.source.fetchChunks(hashes, { signal: options.signal })) {
        const key = hashToHex(reply.hash)
        if (!unanswered.delete(key)) continue
        if ('missing' in reply) {
          peer.missing.add(key)
          pending.add(key)
          continue
        }
        try {
          await onChunk(reply.hash, reply.data, peer.source)
        } catch (err) {
          fatal ??= { error: err }
          unanswered.add(key)
          return
        }
        wanted.delete(key)
      }
      peer.failures = 0
    } catch (err) {
      if (options.signal?.aborted === true) return
      peer.failures++
      const fatalForPeer = peer.failures >= options.maxFailures || (err as Error).name === 'BadChunkError'
      if (fatalForPeer && !peer.dead) {
        peer.dead = true
        onPeerDropped?.(peer.source, err)
      }
    } finally {
      for (const key of unanswered) if (wanted.has(key)) pending.add(key)
    }
  }

  for (;;) {
    if (fatal !== null) {
      while (running > 0) await new Promise<void>((resolve) => (wake = resolve))
      throw (fatal as { error: unknown }).error
    }
    options.signal?.throwIfAborted()
    for (const peer of states) {
      while (!peer.dead && peer.inFlight < options.window && pending.size > 0) {
        const batch = pick(peer)
        if (batch.length === 0) break
        peer.inFlight++
        running++
        void run(peer, batch).finally(() => {
          peer.inFlight--
          running--
          wake()
        })
      }
    }
    if (running === 0) break
    await new Promise<void>((resolve) => {
      wake = resolve
    })
  }
  return wanted
}
