import type { AbortOptions, Peer, PeerData, PeerId, PeerStore, PeerUpdate } from '@libp2p/interface'

/** What the patch needs of a libp2p node: its peer store and its `peer:update` events. */
export interface PeerStoreOwner {
  peerStore: PeerStore
  addEventListener(type: 'peer:update', listener: (evt: CustomEvent<PeerUpdate>) => void): void
}

/**
 * A skipped merge is still done once this long after the last one that reached the store, so that the
 * record's "updated" time (which keeps it from expiring) moves on while streams are opened to the peer.
 */
const REFRESH_MS = 60_000

/**
 * libp2p (3.3) calls `peerStore.merge(peer, { protocols: [protocol] })` on every stream it opens or accepts,
 * so that the store lists the protocol. Each such call takes the peer's write lock, reads and decodes its
 * record, merges, encodes and writes it back, even when the protocol was listed already. We open a stream
 * per batch of 64 chunks (and per have-map and manifest request): a leecher pulling 1 GiB from 4 seeders
 * spent 460 ms of its 8 CPU-s in these merges, and each seeder some more. This answers such a merge from
 * the record as the last `peer:update` event (or merge) gave it when that record lists the protocol already
 * and is less than REFRESH_MS old; every other merge, and every patch and save, goes to the store.
 */
export function skipRedundantProtocolMerges(node: PeerStoreOwner, now = () => performance.now()): void {
  const store = node.peerStore
  const merge = store.merge.bind(store)
  const remove = store.delete.bind(store)
  const known = new Map<string, { peer: Peer; protocols: Set<string>; at: number }>()
  const remember = (peer: Peer): void => {
    known.set(peer.id.toString(), { peer, protocols: new Set(peer.protocols), at: now() })
  }
  // A patch (identify's, say) may also drop protocols: the record it leaves is the one to go by.
  node.addEventListener('peer:update', (evt) => remember(evt.detail.peer))
  store.merge = async (id: PeerId, data: PeerData, options?: AbortOptions): Promise<Peer> => {
    const entry = known.get(id.toString())
    if (
      entry !== undefined &&
      onlyProtocols(data) &&
      now() - entry.at < REFRESH_MS &&
      data.protocols.every((p) => entry.protocols.has(p))
    )
      return entry.peer
    const peer = await merge(id, data, options)
    remember(peer)
    return peer
  }
  store.delete = async (id: PeerId, options?: AbortOptions): Promise<void> => {
    known.delete(id.toString())
    await remove(id, options)
  }
}

function onlyProtocols(data: PeerData): data is PeerData & { protocols: string[] } {
  return Array.isArray(data.protocols) && Object.keys(data).every((key) => key === 'protocols')
}
