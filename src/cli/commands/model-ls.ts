import type { Command } from 'commander'
import { indexPath, resolveNodeHome } from '../../node/home.ts'
import type { ListModelsResult } from '../../node/list-models.ts'
// The modules themselves, not the hf-cache index (loaded with every `model` command, `model add` too).
import { resolveHubCacheDir } from '../../store/hf-cache/cache-dir.ts'
import { validateRepoId, type RepoType } from '../../store/hf-cache/repo.ts'
import { validateRepoFilePath } from '../../store/hf-cache/validate.ts'
import type { ShardIndex } from '../../store/index-db/shard-index.ts'
import { EntryNotFoundError, RevisionNotFoundError } from '../../protocols/hub/hub-errors.ts'
import { createProgressBar, formatBytes } from '../progress.ts'
import { printTable } from '../table.ts'
import { UsageError } from '../errors.ts'
import { jsonOption, repoTypeOption } from './shared-options.ts'

interface LsOptions {
  repoId?: string
  repoType: RepoType
  file?: string
  revision?: string
  json: boolean
}

export function addModelLsCommand(model: Command): void {
  model
    .command('ls')
    .description('List cached repos, the files of one repo, or the path of one file (no daemon needed)')
    .option('--repo-id <repo_id>', 'List the files of every cached revision of this repo')
    .addOption(repoTypeOption())
    .option('--file <path>', 'Print the absolute path of this file (needs --repo-id)')
    .option('--revision <rev>', 'With --file: a branch, tag or commit (default: main)')
    .addOption(jsonOption())
    .action(listCache)
}

async function listCache(args: LsOptions): Promise<void> {
  if (args.file !== undefined && args.repoId === undefined) throw new UsageError('--file needs --repo-id')
  const cacheDir = resolveHubCacheDir()
  const repo =
    args.repoId === undefined ? undefined : { type: args.repoType, id: validateRepoId(args.repoId) }
  // Loaded here, not with the command: `model add` defines this command too, and needs neither.
  const [{ listModels }, { ShardIndex }] = await Promise.all([
    import('../../node/list-models.ts'),
    import('../../store/index-db/shard-index.ts'),
  ])
  let index: ShardIndex | undefined
  const bar = createProgressBar({ title: 'indexing', quiet: !args.json })
  try {
    if (args.json) index = ShardIndex.open(indexPath(resolveNodeHome()))
    const listing = await listModels({
      cacheDir,
      repo,
      index,
      onIndexProgress: (p) => {
        if (p.bytesToHash > 0)
          bar.update(p.bytesHashed, p.bytesToHash, `${p.filesDone}/${p.filesTotal} files`)
      },
    })
    bar.done()
    for (const w of [...listing.scan.warnings, ...listing.indexWarnings]) console.error(`warning: ${w}`)
    if (args.file !== undefined) printFilePath(listing, args.file, args.revision ?? 'main', args.json)
    else if (repo !== undefined) printRepoFiles(listing, args.json)
    else printRepos(listing, args.json)
  } finally {
    index?.close()
  }
}

function printRepos(listing: ListModelsResult, json: boolean): void {
  if (json) {
    console.log(
      JSON.stringify(
        listing.repos.map((r) => repoJson(listing, r)),
        null,
        2,
      ),
    )
    return
  }
  if (listing.repos.length === 0) {
    console.log(`no repos in ${listing.scan.cacheDir}`)
    return
  }
  const rows = listing.repos.map((r) => [
    r.type,
    r.id,
    formatBytes(r.size),
    String(r.nbFiles),
    Object.keys(r.refs).sort().join(', '),
  ])
  printTable(['TYPE', 'REPO ID', 'SIZE', 'FILES', 'REFS'], rows)
}

function printRepoFiles(listing: ListModelsResult, json: boolean): void {
  const repo = listing.repos[0]
  if (json) {
    console.log(JSON.stringify(repoJson(listing, repo), null, 2))
    return
  }
  const rows = repo.revisions.flatMap((rev) =>
    rev.files.map((f) => [rev.commit.slice(0, 8), rev.refs.join(', '), f.path, formatBytes(f.size)]),
  )
  printTable(['REVISION', 'REFS', 'FILE', 'SIZE'], rows)
}

function printFilePath(listing: ListModelsResult, file: string, revision: string, json: boolean): void {
  const repo = listing.repos[0]
  const path = validateRepoFilePath(file)
  const commit = /^[0-9a-f]{40}$/.test(revision) ? revision : repo.refs[revision]
  const rev = repo.revisions.find((r) => r.commit === commit)
  if (rev === undefined)
    throw new RevisionNotFoundError(`${repo.id}: revision "${revision}" is not in the cache`)
  const f = rev.files.find((x) => x.path === path)
  if (f === undefined) throw new EntryNotFoundError(`${repo.id}@${revision}: no file "${path}" in the cache`)
  if (json) console.log(JSON.stringify(fileJson(listing, f), null, 2))
  else console.log(f.filePath)
}

function repoJson(listing: ListModelsResult, r: ListModelsResult['repos'][number]): object {
  return {
    type: r.type,
    id: r.id,
    path: r.path,
    size: r.size,
    files: r.nbFiles,
    refs: r.refs,
    lastAccessed: r.lastAccessed.toISOString(),
    lastModified: r.lastModified.toISOString(),
    revisions: r.revisions.map((rev) => ({
      commit: rev.commit,
      refs: rev.refs,
      size: rev.size,
      files: rev.files.map((f) => fileJson(listing, f)),
    })),
  }
}

function fileJson(
  listing: ListModelsResult,
  f: ListModelsResult['repos'][number]['revisions'][number]['files'][number],
): object {
  return {
    path: f.path,
    size: f.size,
    etag: f.etag,
    xetHash: f.etag === null ? null : (listing.xetHashes.get(f.etag) ?? null),
    filePath: f.filePath,
  }
}
