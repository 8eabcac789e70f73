import type { LogLevel } from './config.js'

const ORDER: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 }

export interface Log {
  error(message: string, fields?: Record<string, unknown>): void
  warn(message: string, fields?: Record<string, unknown>): void
  info(message: string, fields?: Record<string, unknown>): void
  debug(message: string, fields?: Record<string, unknown>): void
}

/** One line per event on stderr (journald adds its own timestamps). */
export function createLog (level: LogLevel, write: (line: string) => void = (l) => process.stderr.write(l + '\n')): Log {
  const emit = (at: LogLevel) => (message: string, fields?: Record<string, unknown>): void => {
    if (ORDER[at] > ORDER[level]) return
    const extra = fields === undefined ? '' : ' ' + JSON.stringify(fields, (_k, v: unknown) => typeof v === 'bigint' ? v.toString() : v)
    write(`${at.padEnd(5)} ${message}${extra}`)
  }
  return { error: emit('error'), warn: emit('warn'), info: emit('info'), debug: emit('debug') }
}
