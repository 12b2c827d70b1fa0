/** Bans remembered before expired ones are swept out. */
const SWEEP_AT = 1024

/**
 * Peers left out until a time: out of pulls after sending a chunk that failed its hash, and refused by
 * every protocol server (their connections closed) after flooding one with requests.
 */
export class PeerBans {
  private readonly until = new Map<string, number>()

  ban(peerId: string, forMs: number): void {
    if (this.until.size >= SWEEP_AT) this.list()
    this.until.set(peerId, Math.max(this.until.get(peerId) ?? 0, Date.now() + forMs))
  }

  isBanned(peerId: string): boolean {
    const t = this.until.get(peerId)
    if (t === undefined) return false
    if (t > Date.now()) return true
    this.until.delete(peerId)
    return false
  }

  /** Bans in force; expired ones are forgotten on the way. */
  list(): { peerId: string; until: string }[] {
    const now = Date.now()
    for (const [peerId, t] of this.until) if (t <= now) this.until.delete(peerId)
    return [...this.until.entries()].map(([peerId, t]) => ({ peerId, until: new Date(t).toISOString() }))
  }
}
