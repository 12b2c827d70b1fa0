import { createInterface } from 'node:readline/promises'
import type { CommandModule } from 'yargs'
import {
  readRef,
  removeSnapshotFiles,
  resolveHubCacheDir,
  scanHubCache,
  validateRepoFilePath,
  validateRepoId,
} from '../../store/hf-cache/index.ts'
import { RepoNotFoundError, RevisionNotFoundError } from '../../protocols/hub/hub-errors.ts'
import { formatBytes } from '../progress.ts'
import { UsageError } from '../errors.ts'
import { asRepoType, repoTypeOption } from './shared-options.ts'

interface RmArgs {
  repo_id: string
  file?: string
  revision?: string
  'repo-type'?: string
  yes: boolean
}

export const modelRmCommand: CommandModule<object, RmArgs> = {
  command: 'rm <repo_id> [file]',
  describe: 'Remove cached revisions (or one file); blobs still linked elsewhere are kept',
  builder: (y) =>
    y
      .positional('repo_id', { type: 'string' })
      .positional('file', { type: 'string', describe: 'Only this file' })
      .option('revision', {
        type: 'string',
        describe: 'Only this branch, tag or commit (default: every revision)',
      })
      .option('repo-type', repoTypeOption)
      .option('yes', {
        alias: 'y',
        type: 'boolean',
        default: false,
        describe: 'Do not ask for confirmation',
      }) as never,
  handler: async (args) => {
    const repo = { type: asRepoType(args['repo-type']), id: validateRepoId(args.repo_id) }
    const file = args.file === undefined ? undefined : validateRepoFilePath(args.file)
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
  },
}
