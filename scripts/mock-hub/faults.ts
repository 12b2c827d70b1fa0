import type { Fault } from './options.ts'

/** What to break in one file-content response. */
export interface ContentFaults {
  /** Destroy the connection after this many content bytes. */
  dropAfter?: number
  /** Flip bytes in the content. */
  corrupt: boolean
}

/** Hands out faults to file requests, counting down the ones with a `count`. */
export class FaultBook {
  private faults: Fault[] = []

  set(faults: Fault[]): void {
    this.faults = faults.filter((f) => f.count === undefined || f.count > 0).map((f) => ({ ...f }))
  }

  list(): Fault[] {
    return this.faults.map((f) => ({ ...f }))
  }

  /** The status that the next file request must get instead of its answer, if any. */
  takeStatus(): number | undefined {
    const f = this.take((x) => x.kind === 'status')
    return f?.kind === 'status' ? f.status : undefined
  }

  /** Faults for a response that is about to send content. */
  takeContentFaults(): ContentFaults {
    const drop = this.take((x) => x.kind === 'drop-after')
    const corrupt = this.take((x) => x.kind === 'corrupt')
    return { dropAfter: drop?.kind === 'drop-after' ? drop.bytes : undefined, corrupt: corrupt !== undefined }
  }

  private take(match: (f: Fault) => boolean): Fault | undefined {
    const i = this.faults.findIndex(match)
    if (i < 0) return undefined
    const f = this.faults[i]
    if (f.count !== undefined) {
      f.count--
      if (f.count <= 0) this.faults.splice(i, 1)
    }
    return f
  }
}
