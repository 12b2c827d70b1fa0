import type { CommandModule } from 'yargs'
import { indexPath, resolveNodeHome } from '../../node/home.ts'
import { pullSnapshot } from '../../node/pull/pull-snapshot.ts'
import { hubConfigFromEnv } from '../../protocols/hub/hub-config.ts'
import { resolveHubCacheDir, validateRepoId } from '../../store/hf-cache/index.ts'
import { ShardIndex } from '../../store/index-db/shard-index.ts'
import { initXet } from '../../store/xet/index.ts'
import { createProgressBar, formatBytes } from '../progress.ts'
import { asRepoType, repoTypeOption } from './shared-options.ts'

interface AddArgs {
  repo_id: string
  files?: string[]
  revision: string
  'repo-type'?: string
  include?: string[]
  exclude?: string[]
  quiet: boolean
  json: boolean
}

export const modelAddCommand: CommandModule<object, AddArgs> = {
  command: 'add <repo_id> [files..]',
  describe: 'Download a repo (or some of its files) into the Hugging Face cache',
  builder: (y) =>
    y
      .positional('repo_id', { type: 'string', describe: 'e.g. org/name' })
      .positional('files', {
        type: 'string',
        array: true,
        describe: 'Only these files (default: the whole repo)',
      })
      .option('revision', { type: 'string', default: 'main', describe: 'Branch, tag, refs/pr/N or commit' })
      .option('repo-type', repoTypeOption)
      .option('include', {
        type: 'string',
        array: true,
        describe: 'Only files matching these patterns (fnmatch)',
      })
      .option('exclude', {
        type: 'string',
        array: true,
        describe: 'Skip files matching these patterns (fnmatch)',
      })
      .option('quiet', { type: 'boolean', default: false, describe: 'No progress output' })
      .option('json', { type: 'boolean', default: false, describe: 'Print the result as JSON' }) as never,
  handler: async (args) => {
    const repo = { type: asRepoType(args['repo-type']), id: validateRepoId(args.repo_id) }
    const cacheDir = resolveHubCacheDir()
    const home = resolveNodeHome()
    await initXet()
    const index = ShardIndex.open(indexPath(home))
    const bar = createProgressBar({ title: repo.id, quiet: args.quiet })
    const abort = new AbortController()
    const onSigint = (): void => abort.abort(new Error('interrupted'))
    process.once('SIGINT', onSigint)
    try {
      const started = Date.now()
      const result = await pullSnapshot({
        config: hubConfigFromEnv(),
        cacheDir,
        home,
        index,
        repo,
        revision: args.revision,
        files: args.files,
        include: args.include,
        exclude: args.exclude,
        signal: abort.signal,
        onProgress: (p) => bar.update(p.bytesDone, p.bytesTotal, `${p.filesDone}/${p.filesTotal} files`),
      })
      const secs = (Date.now() - started) / 1000
      bar.done()
      if (args.json) {
        console.log(JSON.stringify(result, null, 2))
        return
      }
      const got = result.files.filter((f) => f.downloaded).length
      if (!args.quiet) {
        console.log(
          `${repo.id}@${result.commit.slice(0, 8)}: ${result.files.length} files, ${got} downloaded ` +
            `(${formatBytes(result.bytesFetched)} in ${secs.toFixed(1)}s), ${result.files.length - got} already cached`,
        )
      }
    } finally {
      process.off('SIGINT', onSigint)
      index.close()
    }
  },
}
