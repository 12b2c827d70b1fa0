/**
 * Default size limit of the chunk cache, as hf_xet's own default (10 GB). In a module of its own: the CLI
 * reads it (through node/home.ts) on every command, and chunk-cache.ts loads the whole Xet module.
 */
export const DEFAULT_CHUNK_CACHE_BYTES = 10_000_000_000
