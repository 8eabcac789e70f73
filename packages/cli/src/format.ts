/** How sizes, rates, durations and peer ids read in human output (decimal units: MB, MB/s). */

const UNITS = ['B', 'kB', 'MB', 'GB', 'TB']

/** `48.0 MB`, `512 B`. */
export function formatBytes (bytes: number): string {
  let value = bytes
  let unit = 0
  while (value >= 1000 && unit < UNITS.length - 1) {
    value /= 1000
    unit++
  }
  return unit === 0 ? `${Math.round(value)} B` : `${value.toFixed(1)} ${UNITS[unit] ?? ''}`
}

/** `4.0 MB/s`. */
export function formatRate (bytesPerSecond: number): string {
  return `${formatBytes(Number.isFinite(bytesPerSecond) ? bytesPerSecond : 0)}/s`
}

/** `850 ms`, `12.3 s`, `4 min 05 s`. */
export function formatDuration (ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`
  const s = Math.round(ms / 1000)
  return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`
}

/** Bytes per second over a duration (0 for an instant). */
export function rateOf (bytes: number, ms: number): number {
  return ms > 0 ? bytes / (ms / 1000) : 0
}

/** `12D3Ko…x7Qa`: enough of a peer id to tell peers apart in a log. */
export function shortPeerId (peerId: string | undefined): string {
  if (peerId === undefined || peerId.length === 0) return 'unknown peer'
  return peerId.length <= 14 ? peerId : `${peerId.slice(0, 6)}…${peerId.slice(-4)}`
}
