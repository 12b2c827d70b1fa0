/** Defaults of the mock Hub; every knob in `MockHubOptions` names the constant it falls back to. */

export const DEFAULT_HOST = '127.0.0.1'
export const DEFAULT_BRANCH = 'main'

/** Files at least this big are stored with LFS, like `git lfs track` rules on the Hub (10 MB). */
export const LFS_SIZE_THRESHOLD = 10 * 1000 * 1000

/** Extensions tracked by LFS in the Hub's default `.gitattributes`. */
export const LFS_EXTENSIONS: readonly string[] = [
  '.safetensors',
  '.bin',
  '.pt',
  '.pth',
  '.gguf',
  '.onnx',
  '.h5',
  '.msgpack',
  '.parquet',
  '.arrow',
  '.tar',
  '.zip',
]

/** Tree listing page sizes (the Hub pages by 1000 entries, and by fewer when `expand=true`). */
export const TREE_PAGE_SIZE = 1000
export const TREE_EXPAND_PAGE_SIZE = 50

/** How long a scanned branch folder is trusted before it is listed again. */
export const SCAN_TTL_MS = 1000

/** Content is written in slices of at most this size (the rate limiter's unit of work). */
export const CONTENT_SLICE_BYTES = 16 * 1024

/** The token bucket holds at most this many seconds' worth of bandwidth (bounded burst). */
export const RATE_BURST_SECONDS = 0.05

/** Files hashed at once when a listing needs many hashes. */
export const HASH_CONCURRENCY = 4

/** Signed CDN URLs stay valid this long, like the Hub's presigned URLs. */
export const CDN_URL_TTL_SECONDS = 3600

/** Upper bound of a paths-info request body. */
export const MAX_BODY_BYTES = 1024 * 1024

/** The Hub's `Access-Control-Expose-Headers`. */
export const EXPOSE_HEADERS =
  'X-Repo-Commit,X-Request-Id,X-Error-Code,X-Error-Message,X-Total-Count,ETag,Link,Accept-Ranges,Content-Range,X-Linked-Size,X-Linked-ETag,X-Xet-Hash'

export const REPO_TYPES = ['model', 'dataset', 'space'] as const
