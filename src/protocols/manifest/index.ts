/**
 * /hffs/manifest/1.0.0: snapshot listings (which blob sits at which path of a commit) and blob manifests
 * (a blob's chunks in order), served from a SnapshotSource and a ManifestSource.
 *
 * Every answer is checked before it is returned: a listing's commit, etags, sizes and xetHash strings;
 * a manifest's chunk lengths, total size and merkle root (against its own xetHash and, when given, the
 * Hub's). Paths in a listing are returned as-is: the caller validates them before touching the disk.
 */
import { DefaultManifestProtocol } from './manifest-protocol.ts'
import type { RepoRef } from '../../store/hf-cache/index.ts'
import type { BlobManifest, ManifestSource, SnapshotListing, SnapshotSource } from '../sources.ts'
import type { ProtocolComponents, StreamLimitsInit } from '../wire/components.ts'
import type { AbortOptions, DialTarget, Startable } from '@libp2p/interface'

export { MANIFEST_PROTOCOL } from './constants.ts'
export { BadManifestError } from './errors.ts'

export interface ManifestProtocolInit extends StreamLimitsInit {
  /** Where listings are served from. */
  snapshots: SnapshotSource
  /** Where manifests are served from. */
  manifests: ManifestSource
  /** Largest listing message accepted from a peer, in bytes. Default: 16 MiB. */
  maxListingBytes?: number
  /** Most files accepted in one listing. Default: 200 000. */
  maxListingFiles?: number
  /** Most chunks accepted in one manifest (about 128 GiB of blob). Default: 2 097 152. */
  maxManifestChunks?: number
}

export interface FetchManifestOptions extends AbortOptions {
  /** The Hub's xetHash for this blob (raw 32 bytes), when known: the manifest must match it. */
  xetHash?: Uint8Array
}

export interface ManifestProtocol extends Startable {
  readonly protocol: string
  /** The listing of repo@revision as the peer knows it. Throws NotFoundError when it does not. */
  fetchSnapshot(
    peer: DialTarget,
    repo: RepoRef,
    revision: string,
    options?: AbortOptions,
  ): Promise<SnapshotListing>
  /** The verified manifest of a blob. Throws NotFoundError, or BadManifestError when the peer lies. */
  fetchManifest(peer: DialTarget, etag: string, options?: FetchManifestOptions): Promise<BlobManifest>
}

export function manifestProtocol(
  init: ManifestProtocolInit,
): (components: ProtocolComponents) => ManifestProtocol {
  return (components) => new DefaultManifestProtocol(components, init)
}
