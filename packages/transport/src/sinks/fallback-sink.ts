import { isChiralError } from '@chiral/core'
import { StorageUnavailableError } from '../errors.js'
import type { TransferSink } from './sink.js'
import type { AbortOptions, Manifest } from '@chiral/core'

/**
 * A sink that uses `primary` unless its `open()` fails with
 * `StorageUnavailableError`; then it makes and uses `fallback()` instead
 * (the browser default: OPFS, else memory). Any other error stays.
 */
export function fallbackSink (primary: TransferSink, fallback: () => TransferSink): TransferSink {
  let active = primary
  return {
    async open (manifest: Manifest, options?: AbortOptions) {
      try {
        return await primary.open(manifest, options)
      } catch (err) {
        if (!isChiralError(err, StorageUnavailableError.code)) throw err
        active = fallback()
        return active.open(manifest, options)
      }
    },
    async write (index, bytes, options) { return active.write(index, bytes, options) },
    async complete (options) { return active.complete(options) },
    async abort (reason) { return active.abort(reason) }
  }
}
