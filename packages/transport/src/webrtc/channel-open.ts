import { AbortError } from '@chiral/core'

/**
 * Waits for a DataChannel to open: `open`, or `timeout` after `ms`; rejects
 * with `AbortError` when `signal` fires first. Leaves the channel as it is.
 */
export async function channelOpen (dc: RTCDataChannel, ms: number, signal?: AbortSignal): Promise<'open' | 'timeout'> {
  if (signal?.aborted === true) throw new AbortError(undefined, { cause: signal.reason })
  if (dc.readyState === 'open') return 'open'
  return new Promise((resolve, reject) => {
    const settle = (): void => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      dc.removeEventListener('open', onOpen)
    }
    const onOpen = (): void => { settle(); resolve('open') }
    const onAbort = (): void => { settle(); reject(new AbortError(undefined, { cause: signal?.reason })) }
    const timer = setTimeout(() => { settle(); resolve('timeout') }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
    dc.addEventListener('open', onOpen)
  })
}
