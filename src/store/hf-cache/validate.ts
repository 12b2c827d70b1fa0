import {
  InvalidCommitError,
  InvalidEtagError,
  InvalidRefNameError,
  UnsafePathError,
  quoteForMessage,
} from './errors.ts'

/** Longest repo file path accepted, in UTF-8 bytes (well under PATH_MAX once the cache prefix is added). */
export const MAX_REPO_FILE_PATH_BYTES = 1024
/** Longest single path segment accepted, in UTF-8 bytes (NAME_MAX on common file systems). */
export const MAX_PATH_SEGMENT_BYTES = 255

const COMMIT_PATTERN = /^[0-9a-f]{40}$/
const ETAG_PATTERN = /^(?:[0-9a-f]{40}|[0-9a-f]{64})$/
// C0 controls and DEL: never in a legitimate Hub path, and they break one-line output.
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/

/** Whether a string is a full 40-hex commit hash. */
export function isCommitHash(value: string): boolean {
  return COMMIT_PATTERN.test(value)
}

/** Whether a string is a blob etag: 40-hex git sha1 or 64-hex sha256. */
export function isEtag(value: string): boolean {
  return ETAG_PATTERN.test(value)
}

/** Returns the commit hash or throws InvalidCommitError. */
export function validateCommit(commit: string): string {
  if (typeof commit !== 'string' || !isCommitHash(commit)) {
    throw new InvalidCommitError(
      `Invalid commit hash ${quoteForMessage(String(commit))}: expected 40 hex digits`,
    )
  }
  return commit
}

/** Returns the etag or throws InvalidEtagError. */
export function validateEtag(etag: string): string {
  if (typeof etag !== 'string' || !isEtag(etag)) {
    throw new InvalidEtagError(
      `Invalid blob etag ${quoteForMessage(String(etag))}: expected 40 or 64 lowercase hex digits`,
    )
  }
  return etag
}

/**
 * Checks a repo-relative file path that may come from the network and returns it unchanged.
 * Throws UnsafePathError unless it is relative, POSIX-separated, without `.`/`..`/empty
 * segments, NUL, backslash or control characters, and of a sane length.
 */
export function validateRepoFilePath(p: string): string {
  const bad = (why: string): never => {
    throw new UnsafePathError(`Unsafe file path ${quoteForMessage(String(p))}: ${why}`)
  }
  if (typeof p !== 'string') bad('not a string')
  if (p.length === 0) bad('empty')
  if (p.includes('\0')) bad('contains NUL')
  if (p.includes('\\')) bad('contains a backslash')
  if (CONTROL_CHARS.test(p)) bad('contains a control character')
  if (p.startsWith('/')) bad('absolute')
  if (Buffer.byteLength(p, 'utf8') > MAX_REPO_FILE_PATH_BYTES)
    bad(`longer than ${MAX_REPO_FILE_PATH_BYTES} bytes`)
  for (const segment of p.split('/')) {
    if (segment === '') bad('empty segment')
    if (segment === '.' || segment === '..') bad(`'${segment}' segment`)
    if (Buffer.byteLength(segment, 'utf8') > MAX_PATH_SEGMENT_BYTES) {
      bad(`a segment is longer than ${MAX_PATH_SEGMENT_BYTES} bytes`)
    }
  }
  return p
}

// Characters git's check-ref-format refuses (besides controls), plus the backslash.
const REF_FORBIDDEN = /[ ~^:?*[\\]/

/**
 * Checks a revision name stored under `refs/` (branch, tag, `refs/pr/N`, short hash) and
 * returns it; throws InvalidRefNameError for anything git refuses or that could leave `refs/`.
 */
export function validateRefName(name: string): string {
  const bad = (why: string): never => {
    throw new InvalidRefNameError(`Invalid ref name ${quoteForMessage(String(name))}: ${why}`)
  }
  if (typeof name !== 'string' || name.length === 0) bad('empty')
  if (name.length > MAX_PATH_SEGMENT_BYTES) bad(`longer than ${MAX_PATH_SEGMENT_BYTES} characters`)
  if (name.includes('\0') || CONTROL_CHARS.test(name)) bad('contains a control character')
  if (REF_FORBIDDEN.test(name)) bad('contains a character git forbids')
  if (name.includes('..') || name.includes('@{') || name === '@') bad("contains '..' or '@{'")
  if (name.endsWith('.') || name.endsWith('.lock')) bad("ends with '.' or '.lock'")
  for (const segment of name.split('/')) {
    if (segment === '') bad('empty segment')
    if (segment.startsWith('.')) bad("a segment starts with '.'")
  }
  return name
}
