/** A peer's manifest contradicts itself or its xetHash (lengths, total size, merkle root): the peer lied. */
export class BadManifestError extends Error {
  override name = 'BadManifestError'
  /** The peer that sent it, as a string. */
  readonly peer: string

  constructor(peer: string, message: string) {
    super(`manifest from ${peer}: ${message}`)
    this.peer = peer
  }
}
