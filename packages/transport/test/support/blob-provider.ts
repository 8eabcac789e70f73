import { randomBytes } from 'node:crypto'
import { createProvider } from '../../src/index.js'
import type { Provider } from '../../src/index.js'
import type { Manifest } from '@chiral/core'

/** A started in-process provider sharing `size` random bytes as a Blob named data.bin. */
export async function blobProvider (size: number, chunkSize: number): Promise<{ provider: Provider<string>, data: Uint8Array<ArrayBuffer>, manifest: Manifest }> {
  const provider = createProvider()
  await provider.start()
  const data = new Uint8Array(randomBytes(size))
  const manifest = await provider.share(new Blob([data]), { name: 'data.bin', chunkSize })
  return { provider, data, manifest }
}
