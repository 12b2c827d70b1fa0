/** A sync Xet hash function was called before `initXet()` resolved. */
export class XetNotInitializedError extends Error {
  override name = 'XetNotInitializedError'
  constructor() {
    super('Xet hashing is not initialised: await initXet() first')
  }
}

/** A string or byte array that is not a 32-byte Xet hash. */
export class InvalidXetHashError extends Error {
  override name = 'InvalidXetHashError'
}

/** A hash worker thread failed, exited or could not start. */
export class XetWorkerError extends Error {
  override name = 'XetWorkerError'
}

/** A chunker was used after close(), after finish() without reset(), or after a failed or aborted call. */
export class XetChunkerStateError extends Error {
  override name = 'XetChunkerStateError'
}
