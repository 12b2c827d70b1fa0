import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'

/** The DHT key of a blob: a raw CIDv1 of the sha256 of `hffs:blob:<etag>`. */
export async function blobCid(etag: string): Promise<CID> {
  return keyCid(`hffs:blob:${etag}`)
}

/** The DHT key of a snapshot: a raw CIDv1 of the sha256 of `hffs:snapshot:<type>/<repo>@<commit>`. */
export async function snapshotCid(repoType: string, repoId: string, commit: string): Promise<CID> {
  return keyCid(`hffs:snapshot:${repoType}/${repoId}@${commit}`)
}

async function keyCid(key: string): Promise<CID> {
  return CID.createV1(raw.code, await sha256.digest(new TextEncoder().encode(key)))
}
