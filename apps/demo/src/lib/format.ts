/** Human-readable numbers and plain-word errors for the pages. */

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB']

export function formatBytes (n: number): string {
  let v = n
  let i = 0
  while (v >= 1024 && i < UNITS.length - 1) {
    v /= 1024
    i++
  }
  return `${i === 0 ? v : v.toFixed(v >= 100 ? 0 : 1)} ${UNITS[i]}`
}

export function formatRate (bytesPerSecond: number): string {
  return `${formatBytes(bytesPerSecond)}/s`
}

export function formatMs (ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '–'
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`
}

/** What a method name means to a person. */
export function methodLabel (method: string | undefined): string {
  switch (method) {
    case 'webrtc-direct': return 'direct'
    case 'relay': return 'relay'
    case 'libp2p-direct': return 'direct (libp2p)'
    case 'tcp-direct': return 'direct (TCP)'
    case undefined: return '–'
    default: return method
  }
}

/** Shortens a peer id for display: `12D3Ko…x7Qp`. */
export function shortId (id: string): string {
  return id.length <= 14 ? id : `${id.slice(0, 6)}…${id.slice(-6)}`
}

/** Explains an error in plain words, keeping the technical message as detail. */
export function explainError (err: unknown): { title: string, detail: string } {
  const e = err as { code?: unknown, name?: unknown, message?: unknown }
  const code = typeof e?.code === 'string' ? e.code : typeof e?.name === 'string' ? e.name : ''
  const detail = typeof e?.message === 'string' ? e.message : String(err)
  const titles: Record<string, string> = {
    'invalid-content-id': 'That is not a content id. Paste the id (or the whole link) you were given.',
    'no-providers': 'No provider found: nobody is sharing this file right now.',
    'path-dial-failed': 'Could not reach the peer that shares this file, not even through the relay (relay unreachable?).',
    'ice-failed': 'A direct connection could not be made and the relay did not answer either.',
    'provider-misbehaved': 'Verification failed: the data received did not match the content id.',
    'invalid-manifest': 'Verification failed: the file description received did not match the content id.',
    'content-not-found': 'The peer no longer shares this file.',
    'content-unavailable': 'The peer could not read the file it shares.',
    'peer-gone': 'The peer that shared this file went away before the download finished.',
    'paths-lost': 'Every connection to the peer broke and none came back in time (network change, relay restart?). Fetch again: the verified part is kept.',
    'channel-closed': 'The connection to the peer closed before the download finished.',
    'transfer-protocol-error': 'The peer answered with something this app does not understand (different version?).',
    'storage-quota-exceeded': 'Not enough storage space in this browser for the file: free some disk space (or remove other downloads) and open the link again; the part already downloaded is kept.',
    'storage-unavailable': 'This browser does not let the page store the file (private window? another tab using it?).',
    aborted: 'Cancelled.',
    AbortError: 'Cancelled.',
    'not-started': 'The app is still starting (or could not start): check the Network page.',
    'relay-lookup-failed': 'Could not ask the signaling server\'s node for its relay addresses (is the node up, is the signaling URL in Settings right?).',
    'relay-unreachable': 'The relay did not give this page a slot in time, so no other peer could reach it (relay down or unreachable?).',
    'invalid-argument': 'A setting is not valid: check the Settings page.'
  }
  return { title: titles[code] ?? 'Something went wrong.', detail }
}
