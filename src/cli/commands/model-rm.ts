import { createInterface } from 'node:readline/promises'
import type { Command } from 'commander'
// The modules themselves, not the hf-cache index (loaded with every `model` command, `model add` too).
import { resolveHubCacheDir } from '../../store/hf-cache/cache-dir.ts'
import { readRef } from '../../store/hf-cache/refs.ts'
import { removeSnapshotFiles } from '../../store/hf-cache/remove.ts'
import { validateRepoId, type RepoType } from '../../store/hf-cache/repo.ts'
import { scanHubCache } from '../../store/hf-cache/scan.ts'
import { validateRepoFilePath } from '../../store/hf-cache/validate.ts'
import { RepoNotFoundError, RevisionNotFoundError } from '../../protocols/hub/hub-errors.ts'
import { formatBytes } from '../progress.ts'
import { UsageError } from '../errors.ts'
import { repoTypeOption } from './shared-options.ts'

interface RmOptions {
  revision?: string
  repoType: RepoType
  yes: boolean
}

export function addModelRmCommand(model: Command): void {
  model
    .command('rm')
    .description('Remove cached revisions (or one file); blobs still linked elsewhere are kept')
    .argument('<repo_id>')
    .argument('[file]', 'Only this file')
    .option('--revision <rev>', 'Only this branch, tag or commit (default: every revision)')
    .addOption(repoTypeOption())
    .option('-y, --yes', 'Do not ask for confirmation', false)
    .action(removeModel)
}

async function removeModel(repoId: string, filePath: string | undefined, args: RmOptions): Promise<void> {
  const repo = { type: args.repoType, id: validateRepoId(repoId) }
  const file = filePath === undefined ? undefined : validateRepoFilePath(filePath)
  const cacheDir = resolveHubCacheDir()
  const scan = await scanHubCache(cacheDir)
  const cached = scan.repos.find((r) => r.type === repo.type && r.id === repo.id)
  if (cached === undefined) throw new RepoNotFoundError(`${repo.type} ${repo.id} is not in the cache`)
  let commits = cached.revisions.map((r) => r.commit)
  if (args.revision !== undefined) {
    const commit = /^[0-9a-f]{40}$/.test(args.revision)
      ? args.revision
      : await readRef(cacheDir, repo, args.revision)
    if (commit === null || !commits.includes(commit)) {
      throw new RevisionNotFoundError(`${repo.id}: revision "${args.revision}" is not in the cache`)
    }
    commits = [commit]
  }
  const what = `${file ?? 'all files'} of ${repo.id} at ${commits.map((c) => c.slice(0, 8)).join(', ')}`
  if (!args.yes) {
    if (process.stdin.isTTY !== true) throw new UsageError(`refusing to remove ${what} without --yes`)
    const rl = createInterface({ input: process.stdin, output: process.stderr })
    const answer = await rl.question(`remove ${what}? [y/N] `)
    rl.close()
    if (!/^y(es)?$/i.test(answer.trim())) {
      console.error('nothing removed')
      return
    }
  }
  let freed = 0
  for (const commit of commits) {
    freed += await removeSnapshotFiles(cacheDir, repo, commit, file === undefined ? undefined : [file])
  }
  console.log(`removed ${what}; freed ${formatBytes(freed)}`)
}
