import { stat } from 'node:fs/promises'
import { indexHubCache, type IndexReport } from '../store/index-db/index-hub-cache.ts'
import type { ShardIndex } from '../store/index-db/shard-index.ts'
import { initXet } from '../store/xet/index.ts'
import { errorMessage, type Logger } from './logger.ts'

export interface IndexingStatus {
  state: 'pending' | 'running' | 'done' | 'failed'
  filesDone: number
  filesTotal: number
  bytesHashed: number
  bytesToHash: number
  startedAt: string | null
  finishedAt: string | null
  /** With state 'done': files that failed their etag. */
  corrupt: number
  error: string | null
}

export interface CacheIndexerInit {
  cacheDir: string
  index: ShardIndex
  logger: Logger
  /** Progress is logged at most this often; default 5 s. */
  logEveryMs?: number
}

/** Runs indexHubCache for the daemon, in the background, keeping a status and logging progress. */
export class CacheIndexer {
  private readonly init: CacheIndexerInit
  private readonly current: IndexingStatus = {
    state: 'pending',
    filesDone: 0,
    filesTotal: 0,
    bytesHashed: 0,
    bytesToHash: 0,
    startedAt: null,
    finishedAt: null,
    corrupt: 0,
    error: null,
  }

  constructor(init: CacheIndexerInit) {
    this.init = init
  }

  status(): IndexingStatus {
    return { ...this.current }
  }

  /** Indexes the whole cache; never throws (a failure is logged and kept in the status). */
  async run(signal: AbortSignal): Promise<IndexReport | null> {
    const { cacheDir, index, logger } = this.init
    const s = this.current
    Object.assign(s, { state: 'running', startedAt: new Date().toISOString(), finishedAt: null, error: null })
    try {
      await stat(cacheDir)
    } catch {
      logger.info(`no Hugging Face cache at ${cacheDir} yet; nothing to index`)
      Object.assign(s, { state: 'done', finishedAt: new Date().toISOString() })
      return null
    }
    logger.info(`indexing ${cacheDir}`)
    const started = Date.now()
    let lastLog = started
    try {
      await initXet()
      const report = await indexHubCache({
        cacheDir,
        index,
        signal,
        onProgress: (p) => {
          Object.assign(s, {
            filesDone: p.filesDone,
            filesTotal: p.filesTotal,
            bytesHashed: p.bytesHashed,
            bytesToHash: p.bytesToHash,
          })
          if (Date.now() - lastLog >= (this.init.logEveryMs ?? 5000)) {
            lastLog = Date.now()
            logger.info(
              `indexing: ${p.filesDone}/${p.filesTotal} files, ${mb(p.bytesHashed)}/${mb(p.bytesToHash)} MB hashed`,
            )
          }
        },
      })
      for (const w of report.warnings) logger.warn(w)
      for (const c of report.corrupt) logger.warn(`corrupt blob, not shared: ${c.path}: ${c.error}`)
      Object.assign(s, {
        state: 'done',
        finishedAt: new Date().toISOString(),
        filesDone: report.filesSeen,
        filesTotal: report.filesSeen,
        corrupt: report.corrupt.length,
      })
      logger.info(
        `indexed ${report.filesSeen} blob files (${report.filesIndexed} hashed, ${mb(report.bytesHashed)} MB, ` +
          `${report.filesUnchanged} unchanged, ${report.filesForgotten} forgotten) in ${((Date.now() - started) / 1000).toFixed(1)} s`,
      )
      return report
    } catch (err) {
      Object.assign(s, { state: 'failed', finishedAt: new Date().toISOString(), error: errorMessage(err) })
      if (!signal.aborted) logger.error(`indexing failed: ${errorMessage(err)}`)
      return null
    }
  }
}

function mb(bytes: number): string {
  return (bytes / 1e6).toFixed(1)
}
