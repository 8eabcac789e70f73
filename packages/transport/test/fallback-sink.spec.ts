import { describe, expect, it } from 'vitest'
import { blobSink, fallbackSink, StorageQuotaError, StorageUnavailableError } from '../src/index.js'
import type { TransferSink } from '../src/index.js'
import type { Manifest } from '@chiral/core'

const manifest = { chunks: [new Uint8Array(32)], size: 3, chunkSize: 4 } as unknown as Manifest

function failingSink (error: Error): TransferSink & { opened: number } {
  const sink = {
    opened: 0,
    async open () { sink.opened++; throw error },
    async write () { throw new Error('not opened') },
    async complete () { throw new Error('not opened') },
    async abort () {}
  }
  return sink
}

describe('fallbackSink', () => {
  it('uses the fallback when the primary sink cannot store here', async () => {
    const primary = failingSink(new StorageUnavailableError('no OPFS'))
    let made = 0
    const sink = fallbackSink(primary, () => { made++; return blobSink() })
    expect([...await sink.open(manifest)]).toEqual([])
    await sink.write(0, new Uint8Array([1, 2, 3]))
    const { blob } = await sink.complete()
    expect(new Uint8Array(await blob!.arrayBuffer())).toEqual(new Uint8Array([1, 2, 3]))
    expect(primary.opened).toBe(1)
    expect(made).toBe(1)
  })

  it('keeps any other error (a full quota is not a reason to hold the file in memory)', async () => {
    let made = 0
    const sink = fallbackSink(failingSink(new StorageQuotaError('full')), () => { made++; return blobSink() })
    await expect(sink.open(manifest)).rejects.toMatchObject({ code: 'storage-quota-exceeded' })
    expect(made).toBe(0)
  })
})
