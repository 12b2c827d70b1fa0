// Defaults of the daemon, in one place; each is documented where it is used.

/** The control API's TCP port on 127.0.0.1; 0 picks any free port. */
export const DEFAULT_CONTROL_PORT = 9009

/** libp2p listens on every IPv4 interface, on a port the OS picks. */
export const DEFAULT_LISTEN = ['/ip4/0.0.0.0/tcp/0']

/** Our own Kademlia protocol: a private DHT of hffs nodes, apart from the public IPFS one. */
export const DHT_PROTOCOL = '/hffs/kad/1.0.0'

/**
 * libp2p refuses inbound connections and prunes outbound ones beyond this many: a LAN or a swarm of a few
 * dozen machines, with room for DHT peers, while a connection flood costs bounded memory.
 */
export const MAX_CONNECTIONS = 200

/**
 * Streams a remote may open on one connection, all protocols together (yamux resets the rest). Each hffs
 * protocol allows 64 to 80 (twice what it serves a peer at once) and the DHT, identify and ping a few.
 */
export const MAX_STREAMS_PER_CONNECTION = 512

/**
 * Streams a remote may open on a new connection before this node's muxer listens for them (libp2p aborts
 * the whole connection past it; its default is 10). A node pulling from a peer it just reached opens a
 * window of chunk batches, a manifest and a have-map at once, and on a busy machine they all arrive before
 * the connection's upgrade here is done: seen as MaxEarlyStreamsError with 32 streams at connect.
 */
export const EARLY_STREAMS_PER_CONNECTION = 64

/** libp2p dials at most this many peers at once. */
export const MAX_PARALLEL_DIALS = 32

/** One dial (all addresses of a peer) gives up after this long. */
export const DIAL_TIMEOUT_MS = 10_000

/** Redial of a manual or bootstrap peer that dropped: first delay, doubled up to the cap. */
export const REDIAL_MIN_MS = 1_000
export const REDIAL_MAX_MS = 60_000

/** Connected peers are pinged this often to refresh their latency. */
export const PING_INTERVAL_MS = 15_000
export const PING_TIMEOUT_MS = 5_000
export const PING_CONCURRENCY = 4

/** Peers found by mDNS: dials in flight at most, queued at most, and the wait before retrying a failed one. */
export const DISCOVERY_DIAL_CONCURRENCY = 4
export const DISCOVERY_DIAL_QUEUE = 64
export const DISCOVERY_RETRY_MS = 30_000

/** Peers kept in the peer book that are neither manual nor connected (oldest forgotten first). */
export const PEER_BOOK_MAX_DISCOVERED = 512

/** DHT provider records: how often to look for records to (re)provide, how old one may get, and limits. */
export const PROVIDE_INTERVAL_MS = 10 * 60_000
export const PROVIDE_REFRESH_MS = 12 * 60 * 60_000
export const PROVIDE_CONCURRENCY = 4
export const PROVIDE_TIMEOUT_MS = 30_000

/** The control API reads request bodies up to this size. */
export const CONTROL_MAX_BODY_BYTES = 1024 * 1024

/** `hffs-node start` waits this long for a detached daemon to answer; `stop` as long for it to exit. */
export const START_TIMEOUT_MS = 30_000
export const STOP_TIMEOUT_MS = 15_000

/** A daemon that has not finished shutting down after this long exits anyway. */
export const SHUTDOWN_TIMEOUT_MS = 10_000
