import { createHash } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import type { IntentBoard, IntentState } from '../../protocols/intent/index.ts'

/** How to ask one peer about a blob (the intent protocol's client, bound to a peer id). */
export type AskPeer = (
  peerId: string,
  etag: string,
  ours: IntentState,
  signal?: AbortSignal,
) => Promise<IntentState>

export type HubFetchDecision = { action: 'fetch' } | { action: 'pull' }

export interface DecideParams {
  etag: string
  size: number
  self: string
  peers: string[]
  ask: AskPeer
  /** True once this node has a manifest for the blob from a peer (checked while following). */
  signal?: AbortSignal
}

/** A peer's word is trusted for this long. */
const HEARD_TTL_MS = 15_000
/** Time for nodes that start at nearly the same moment to hear of each other. */
const SETTLE_MS = 400
const POLL_MS = 500
const ASK_TIMEOUT_MS = 3_000
/**
 * Blobs whose intents are remembered: every peer may tell us about any etag, so what we heard is pruned
 * past this many (stale entries first, then the oldest), else a peer could grow it without end.
 */
const MAX_HEARD_BLOBS = 4096

/**
 * Keeps a LAN from fetching the same blob from the Hub several times. A node that needs a blob no peer
 * has a manifest for announces that it wants it and hears what its peers are doing: if one is fetching
 * it, it follows that one; if several want it at once, they all elect the same fetcher (the lowest
 * hash of peer id and etag) and the others wait until it has the blob, then pull its chunks from it.
 * A fetcher that fails or leaves ends the wait; the follower then decides again or fetches itself.
 */
export class HubFetchCoordinator implements IntentBoard {
  private readonly mine = new Map<string, IntentState>()
  private readonly heard = new Map<string, Map<string, { state: IntentState; at: number }>>()
  private readonly hasBlob: (etag: string) => boolean

  constructor(hasBlob: (etag: string) => boolean) {
    this.hasBlob = hasBlob
  }

  stateOf(etag: string): IntentState {
    if (this.hasBlob(etag)) return 'have'
    return this.mine.get(etag) ?? 'none'
  }

  note(etag: string, peerId: string, state: IntentState): void {
    let peers = this.heard.get(etag)
    if (peers === undefined) {
      if (this.heard.size >= MAX_HEARD_BLOBS) this.prune()
      this.heard.set(etag, (peers = new Map()))
    }
    peers.set(peerId, { state, at: Date.now() })
  }

  /** Blobs with intents remembered (bounded by MAX_HEARD_BLOBS). */
  get heardBlobs(): number {
    return this.heard.size
  }

  /** Forgets what is stale; if that is not enough, the blobs heard of first, down to 3/4 of the bound. */
  private prune(): void {
    const now = Date.now()
    for (const [etag, peers] of this.heard) {
      for (const [peer, h] of peers) if (now - h.at >= HEARD_TTL_MS) peers.delete(peer)
      if (peers.size === 0) this.heard.delete(etag)
    }
    for (const etag of this.heard.keys()) {
      if (this.heard.size < (MAX_HEARD_BLOBS * 3) / 4) break
      this.heard.delete(etag)
    }
  }

  /** This node starts fetching the blob from the Hub (until `done`). */
  fetching(etag: string): void {
    this.mine.set(etag, 'fetching')
  }

  done(etag: string): void {
    this.mine.delete(etag)
  }

  /**
   * Fetch from the Hub, or pull from a peer that now has the blob. Waits while another node fetches it,
   * bounded by a time that grows with the blob's size.
   */
  async decide(p: DecideParams): Promise<HubFetchDecision> {
    const { etag } = p
    this.mine.set(etag, 'wanting')
    const deadline = Date.now() + Math.max(120_000, (p.size / 2_000_000) * 1000)
    for (let round = 0; Date.now() < deadline; round++) {
      p.signal?.throwIfAborted()
      const states = await this.poll(p, 'wanting')
      if ([...states.values()].includes('have')) return { action: 'pull' }
      const fetcher = [...states.entries()].find(([, s]) => s === 'fetching')?.[0]
      if (fetcher === undefined) {
        if (round === 0) {
          // Let nodes that want the blob at the same moment hear of each other before electing.
          await sleep(SETTLE_MS, undefined, { signal: p.signal })
          continue
        }
        const wanters = [p.self, ...this.recent(etag, 'wanting')]
        if (elect(wanters, etag) === p.self) {
          this.fetching(etag)
          return { action: 'fetch' }
        }
      }
      await sleep(POLL_MS, undefined, { signal: p.signal })
    }
    this.fetching(etag)
    return { action: 'fetch' }
  }

  private async poll(p: DecideParams, ours: IntentState): Promise<Map<string, IntentState>> {
    const answers = await Promise.all(
      p.peers.map(async (peer) => {
        try {
          const signal = AbortSignal.any([
            AbortSignal.timeout(ASK_TIMEOUT_MS),
            ...(p.signal ? [p.signal] : []),
          ])
          const state = await p.ask(peer, p.etag, ours, signal)
          this.note(p.etag, peer, state)
          return [peer, state] as const
        } catch {
          return [peer, 'none'] as const
        }
      }),
    )
    return new Map(answers)
  }

  private recent(etag: string, state: IntentState): string[] {
    const now = Date.now()
    return [...(this.heard.get(etag)?.entries() ?? [])]
      .filter(([, h]) => h.state === state && now - h.at < HEARD_TTL_MS)
      .map(([peer]) => peer)
  }
}

/** The same choice on every node that knows the same wanters. */
export function elect(wanters: string[], etag: string): string {
  const score = (peer: string): string => createHash('sha256').update(`${peer}\n${etag}`).digest('hex')
  return [...new Set(wanters)].sort((a, b) => (score(a) < score(b) ? -1 : score(a) > score(b) ? 1 : 0))[0]
}
