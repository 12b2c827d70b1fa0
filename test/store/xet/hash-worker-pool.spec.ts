import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { HashWorkerPool } from '../../../src/store/xet/hash-worker-pool.ts'

const fixture = (name: string): URL => new URL(`./fixtures/${name}`, import.meta.url)

describe('HashWorkerPool', () => {
  const slabs = [new SharedArrayBuffer(1024)]

  it('rejects start() with XetWorkerError when a worker cannot start', async () => {
    await assert.rejects(
      HashWorkerPool.start({ workers: 2, slabs, workerUrl: fixture('throwing-worker.ts') }),
      {
        name: 'XetWorkerError',
        message: /cannot start/,
      },
    )
  })

  it('rejects the pending job when a worker exits', async () => {
    const pool = await HashWorkerPool.start({ workers: 1, slabs, workerUrl: fixture('exiting-worker.ts') })
    try {
      await assert.rejects(pool.hash(0, Uint32Array.of(0, 10), 10), {
        name: 'XetWorkerError',
        message: /exited with code 3/,
      })
      await assert.rejects(pool.hash(0, Uint32Array.of(0, 10), 10), { name: 'XetWorkerError' })
    } finally {
      await pool.close()
    }
  })

  it('rejects a job that the worker reports as failed', async () => {
    const pool = await HashWorkerPool.start({ workers: 1, slabs })
    try {
      await assert.rejects(pool.hash(5, Uint32Array.of(0, 10), 10), {
        name: 'XetWorkerError',
        message: /no slab 5/,
      })
    } finally {
      await pool.close()
    }
  })

  it('hashes, then closes harmlessly twice and rejects later jobs', async () => {
    const pool = await HashWorkerPool.start({ workers: 2, slabs })
    const hashes = await pool.hash(0, Uint32Array.of(0, 100, 100, 0), 100)
    assert.equal(hashes.length, 64)
    await pool.close()
    await pool.close()
    await assert.rejects(pool.hash(0, Uint32Array.of(0, 1), 1), { name: 'XetWorkerError' })
  })

  it('does not keep the process alive when the chunker is never closed', async () => {
    const script = fileURLToPath(fixture('forgotten-chunker.ts'))
    const { stdout } = await promisify(execFile)(process.execPath, [script], { timeout: 20_000 })
    assert.equal(stdout.trim(), '8')
  })
})
