/**
 * Lets an event through at most once per interval per key (JSON progress
 * lines, ~4 a second), and always when it is forced (the last one of a file,
 * a change of state).
 */
export type Throttle = (key: string, force?: boolean) => boolean

export function createThrottle (intervalMs: number, now: () => number = Date.now): Throttle {
  const last = new Map<string, number>()
  return (key, force = false) => {
    const t = now()
    const previous = last.get(key)
    if (!force && previous !== undefined && t - previous < intervalMs) return false
    last.set(key, t)
    return true
  }
}
