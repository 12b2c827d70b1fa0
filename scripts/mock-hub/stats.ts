/** What `GET /_mock/stats` returns. */
export interface MockHubStats {
  /** File-content bytes written to sockets, all files. */
  totalBytes: number
  /** `"<type>/<repo>/<path>"` → file-content bytes written. */
  files: Record<string, number>
  requests: {
    total: number
    /** By route: resolve, raw, resolve-cache, cdn, info, tree, paths-info, other. */
    byRoute: Record<string, number>
    /** By `"<METHOD> <status>"`. */
    byStatus: Record<string, number>
  }
}

export class StatsRecorder {
  private totalBytes = 0
  private files = new Map<string, number>()
  private total = 0
  private byRoute = new Map<string, number>()
  private byStatus = new Map<string, number>()

  contentWritten(fileKey: string, bytes: number): void {
    this.totalBytes += bytes
    this.files.set(fileKey, (this.files.get(fileKey) ?? 0) + bytes)
  }

  request(route: string): void {
    this.total++
    this.byRoute.set(route, (this.byRoute.get(route) ?? 0) + 1)
  }

  response(method: string, status: number): void {
    const key = `${method} ${status}`
    this.byStatus.set(key, (this.byStatus.get(key) ?? 0) + 1)
  }

  snapshot(): MockHubStats {
    return {
      totalBytes: this.totalBytes,
      files: Object.fromEntries(this.files),
      requests: {
        total: this.total,
        byRoute: Object.fromEntries(this.byRoute),
        byStatus: Object.fromEntries(this.byStatus),
      },
    }
  }

  reset(): void {
    this.totalBytes = 0
    this.files.clear()
    this.total = 0
    this.byRoute.clear()
    this.byStatus.clear()
  }
}
