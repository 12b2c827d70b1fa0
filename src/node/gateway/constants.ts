// Defaults of the HF-compatible gateway; each is documented where it is used.

/** Response headers of a metadata request to the upstream Hub must arrive within this (a client's own HEAD timeout is 10 s). */
export const UPSTREAM_HEADERS_TIMEOUT_MS = 5_000

/** The body of a metadata answer (a tree page, paths-info) must have arrived within this. */
export const UPSTREAM_BODY_TIMEOUT_MS = 30_000

/** Largest metadata body read from the upstream (a tree page of 1000 entries is ~300 KB). */
export const UPSTREAM_MAX_BODY_BYTES = 64 * 1024 * 1024

/** After the upstream could not be reached, answers come from what the node knows for this long before it is tried again. */
export const UPSTREAM_RETRY_AFTER_MS = 5_000

/** Relative redirects followed on the upstream (resolve-cache, renamed repos), as huggingface_hub follows them. */
export const MAX_RELATIVE_REDIRECTS = 5

/** Entries per page of a tree listing made from what the node knows, like the Hub's pages. */
export const TREE_PAGE_SIZE = 1000

/** Commit-pinned listings from the upstream kept in memory, at most this many bytes (they never change). */
export const LISTING_MEMO_BYTES = 32 * 1024 * 1024

/** A listing a peer gave is reused for this long before peers are asked again. */
export const PEER_LISTING_TTL_MS = 30_000

/** A GET whose bytes are still arriving is cut when no new byte could be sent for this long. */
export const STREAM_STALL_MS = 120_000

/** While the bytes of a GET are still arriving, they are looked for at least this often. */
export const STREAM_POLL_MS = 200

/** Bytes read from disk and written to the client at once. */
export const STREAM_PIECE_BYTES = 1024 * 1024

/** Largest paths-info request body. */
export const MAX_REQUEST_BODY_BYTES = 1024 * 1024

/** The Hub's `Access-Control-Expose-Headers`, on every answer. */
export const EXPOSE_HEADERS =
  'X-Repo-Commit,X-Request-Id,X-Error-Code,X-Error-Message,X-Total-Count,ETag,Link,Accept-Ranges,Content-Range,X-Linked-Size,X-Linked-ETag,X-Xet-Hash'

/** Repos whose upstream access (public, gated, private) the gateway remembers; the oldest are forgotten first. */
export const MAX_REMEMBERED_REPO_ACCESS = 10_000
