/** A repo id that is not `name` or `org/name` with Hugging Face's allowed characters. */
export class InvalidRepoIdError extends Error {
  override name = 'InvalidRepoIdError'
}

/** A file path (usually from the network) that could escape or corrupt the snapshot folder. */
export class UnsafePathError extends Error {
  override name = 'UnsafePathError'
}

/** A blob etag that is neither a 40-hex git sha1 nor a 64-hex sha256. */
export class InvalidEtagError extends Error {
  override name = 'InvalidEtagError'
}

/** A commit hash that is not 40 lowercase hex characters. */
export class InvalidCommitError extends Error {
  override name = 'InvalidCommitError'
}

/** A ref name (branch, tag, `refs/pr/N`) that git would refuse or that could escape `refs/`. */
export class InvalidRefNameError extends Error {
  override name = 'InvalidRefNameError'
}

/** The hub cache folder does not exist or is not a folder. */
export class CacheNotFoundError extends Error {
  override name = 'CacheNotFoundError'
}

/** A snapshot link was requested for a blob that is not in `blobs/`. */
export class BlobNotFoundError extends Error {
  override name = 'BlobNotFoundError'
}

/** Quotes untrusted input for a one-line error message: escaped, and cut to a readable length. */
export function quoteForMessage(value: string, max = 120): string {
  const quoted = JSON.stringify(value)
  return quoted.length > max ? `${quoted.slice(0, max)}…"` : quoted
}
