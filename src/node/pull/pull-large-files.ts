import type { RemoteFile } from '../../protocols/hub/fetch-snapshot.ts'
import type { Verifier } from '../../store/verify/blob-verifier.ts'

/** How one file is fetched: the verifier it hashes with, and who hears when its bytes are all in. */
export interface FileJob {
  verifier: Verifier
  /** Every byte of the file arrived; what is left (hashing the tail, the marker, rename) takes no network. */
  onFetched?: () => void
  /** Little is left to ask for: the next file may get ready (its manifest, have-maps, local chunks). */
  onNearlyFetched?: () => void
  /** Resolves when this file may start asking peers for chunks: when the one before it is all asked. */
  mayFetch?: Promise<void>
}

/**
 * Large files one at a time over the network, but the last steps of one overlap the next one's download:
 * the next file starts as soon as the bytes of the one before are all in (from the Hub: hashing its tail,
 * the marker, rename; about 0.3 s for 500 MB when each blob was still flushed first) or all asked of peers
 * (the endgame, and the next blob's manifest and have-maps: 0.2-0.3 s in which capped seeders sat idle).
 * From peers, the next file gets ready (manifest, have-maps, local chunks) already when little is left to
 * ask of the one before (`onNearlyFetched`), and asks for chunks when that one is all asked (`mayFetch`):
 * one seeder, 1 GiB in two shards, the second shard's first chunk came ~0.2 s after the first shard was all
 * asked. Two verifiers take turns, so at most two files are under way.
 */
export async function pullLargeFiles(
  files: readonly RemoteFile[],
  verifiers: readonly Verifier[],
  pullOne: (file: RemoteFile, job: FileJob) => Promise<void>,
): Promise<void> {
  const pulls: Promise<void>[] = []
  let failure: { error: unknown } | null = null
  let mayFetch = Promise.resolve()
  try {
    for (const [k, file] of files.entries()) {
      if (k >= verifiers.length) await pulls[k - verifiers.length]
      let onFetched = (): void => {}
      let onNearlyFetched = (): void => {}
      const fetched = new Promise<void>((resolve) => (onFetched = resolve))
      const nearly = new Promise<void>((resolve) => (onNearlyFetched = resolve))
      const pull = pullOne(file, {
        verifier: verifiers[k % verifiers.length],
        onFetched,
        onNearlyFetched,
        mayFetch,
      })
      pulls.push(pull)
      const settled = pull.then(
        () => {},
        () => {},
      )
      // The next file asks peers for chunks once this one is all asked (or over), not before: one file
      // at a time over the network.
      mayFetch = Promise.race([fetched, settled])
      await Promise.race([fetched, nearly, pull])
    }
  } catch (error) {
    failure = { error }
  }
  // The files still under way finish (or fail) before a failure is reported.
  const settled = await Promise.allSettled(pulls)
  if (failure !== null) throw failure.error
  for (const r of settled) if (r.status === 'rejected') throw r.reason
}
