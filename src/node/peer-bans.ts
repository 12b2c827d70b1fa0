/** Peers left out of pulls until a time, e.g. after sending a chunk that failed its hash. */
export class PeerBans {
  private readonly until = new Map<string, number>()

  ban(peerId: string, forMs: number): void {
    this.until.set(peerId, Date.now() + forMs)
  }

  isBanned(peerId: string): boolean {
    const t = this.until.get(peerId)
    if (t === undefined) return false
    if (t > Date.now()) return true
    this.until.delete(peerId)
    return false
  }

  list(): { peerId: string; until: string }[] {
    return [...this.until.entries()]
      .filter(([, t]) => t > Date.now())
      .map(([peerId, t]) => ({ peerId, until: new Date(t).toISOString() }))
  }
}
