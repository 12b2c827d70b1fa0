/** One transfer in progress, as `status` shows it. */
export interface Transfer {
  id: string
  direction: 'download' | 'upload'
  /** `{type}/{repo_id}` when known. */
  repo: string | null
  etag: string | null
  path: string | null
  bytesDone: number
  bytesTotal: number | null
  /** Peers taking part right now. */
  peers: number
  startedAt: string
}

export type TransferStart = Omit<Transfer, 'startedAt' | 'bytesDone' | 'peers'> &
  Partial<Pick<Transfer, 'bytesDone' | 'peers'>>

/** Transfers in progress; the download engine and the chunk server register theirs here. */
export class TransferRegistry {
  private readonly transfers = new Map<string, Transfer>()

  /** Registers a transfer; returns the function that ends it. */
  begin(start: TransferStart): () => void {
    const t: Transfer = { bytesDone: 0, peers: 0, ...start, startedAt: new Date().toISOString() }
    this.transfers.set(t.id, t)
    return () => {
      if (this.transfers.get(t.id) === t) this.transfers.delete(t.id)
    }
  }

  update(id: string, patch: Partial<Pick<Transfer, 'bytesDone' | 'bytesTotal' | 'peers'>>): void {
    const t = this.transfers.get(id)
    if (t !== undefined) Object.assign(t, patch)
  }

  list(): Transfer[] {
    return [...this.transfers.values()].map((t) => ({ ...t }))
  }
}
