/** The Hub's answers that a caller acts on, one class each, as huggingface_hub maps `X-Error-Code`. */
export class RepoNotFoundError extends Error {
  override name = 'RepoNotFoundError'
}
export class RevisionNotFoundError extends Error {
  override name = 'RevisionNotFoundError'
}
export class EntryNotFoundError extends Error {
  override name = 'EntryNotFoundError'
}
export class GatedRepoError extends Error {
  override name = 'GatedRepoError'
}
/** The Hub (or mirror) could not be reached, or kept failing after retries. */
export class HubUnreachableError extends Error {
  override name = 'HubUnreachableError'
}
/** HF_HUB_OFFLINE is set and the cache does not have what was asked for. */
export class OfflineError extends Error {
  override name = 'OfflineError'
}
/** Any other HTTP failure status. `retryable` for 5xx, 408 and 429. */
export class HubHttpError extends Error {
  override name = 'HubHttpError'
  readonly status: number
  constructor(message: string, status: number) {
    super(message)
    this.status = status
  }
  get retryable(): boolean {
    return this.status >= 500 || this.status === 408 || this.status === 429
  }
}
/** The bytes downloaded do not hash to the etag (or xetHash) the Hub announced. */
export class IntegrityError extends Error {
  override name = 'IntegrityError'
}
