/**
 * Offline, only untrusted peers had the listing of a revision: it is not believed (DESIGN §2), since an
 * untrusted peer could say any blob is at any path.
 */
export class UntrustedListingError extends Error {
  override name = 'UntrustedListingError'
}

/** Why a peer is trusted: it holds the private swarm's key, or the user added it with `peer add --trust`. */
export type TrustReason = 'swarm-key' | 'manual'

export interface PeerTrustInit {
  /** The node runs with a swarm key: every peer that can connect holds it, so every peer is trusted. */
  privateSwarm: boolean
  /** Peer ids the user trusts by hand (manual peers added with --trust). */
  trusted?: Iterable<string>
}

/**
 * Which peers this node trusts (DESIGN §2): offline, only they may say which blob is at which path of a
 * commit, and only they are served gated and private repos. Blob content is verified whoever sends it.
 */
export class PeerTrust {
  readonly privateSwarm: boolean
  private readonly byHand: Set<string>

  constructor(init: PeerTrustInit) {
    this.privateSwarm = init.privateSwarm
    this.byHand = new Set(init.trusted ?? [])
  }

  isTrusted(peerId: string): boolean {
    return this.reason(peerId) !== null
  }

  /** Why `peerId` is trusted, or null when it is not. */
  reason(peerId: string): TrustReason | null {
    if (this.privateSwarm) return 'swarm-key'
    return this.byHand.has(peerId) ? 'manual' : null
  }

  /** Trusts a peer by hand, or stops doing so. */
  setTrusted(peerId: string, trusted: boolean): void {
    if (trusted) this.byHand.add(peerId)
    else this.byHand.delete(peerId)
  }
}
