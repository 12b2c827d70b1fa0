/** Which peers hold which chunks, from their have-maps; `null` when a peer's map is unknown. */
export interface Availability {
  has(peerId: string, key: string): boolean | null
  /** Whether the peer's have-map may still grow (it is downloading the blob), so that waiting may pay. */
  mayGain(peerId: string): boolean
  /**
   * Whether another node pulling the blob at once will fetch this chunk and pass it on, so that `peerId`
   * (a seeder, say across a slow link) should not be asked for it by this node now.
   */
  leaveToOwner?(peerId: string, key: string): boolean
  /** Whether some node pulling the blob at once is expected to get this chunk for us. */
  ownerOf?(key: string): string | null
  /** Whether the peer is another node pulling the blob at once. */
  isCoLeecher?(peerId: string): boolean
  /** Chunks per second the nodes pulling the blob at once have gained lately, all together. */
  coLeechersGainRate?(): number
  /** Registers the scheduler's wake-up, called with the chunks a peer's have-map gained. */
  onChange(wake: (peerId: string, keys: readonly string[]) => void): void
}
