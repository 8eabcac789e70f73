/**
 * Builds test/nat/wan/delay.c (the NFQUEUE delay program the WAN lab runs
 * in each router) into the git-ignored build/ folder when it is missing or
 * older than its source.
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync, renameSync, statSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const SOURCE = fileURLToPath(new URL('./delay.c', import.meta.url))
const BUILD_DIR = fileURLToPath(new URL('./build/', import.meta.url))
export const DELAY_PROGRAM = `${BUILD_DIR}chiral-wan-delay`

/** Why the delay program cannot be built here, or undefined if it can. */
export function delayProgramProblem (): string | undefined {
  try {
    execFileSync('sh', ['-c', 'command -v gcc'], { stdio: 'ignore' })
  } catch {
    return 'the WAN lab needs `gcc` (Debian package gcc; npm test installs it as root)'
  }
  try {
    execFileSync('gcc', ['-E', '-x', 'c', '-o', '/dev/null', '-'], { input: '#include <libnetfilter_queue/libnetfilter_queue.h>\n', stdio: ['pipe', 'ignore', 'ignore'] })
  } catch {
    return 'the WAN lab needs the libnetfilter_queue headers (Debian package libnetfilter-queue-dev; npm test installs it as root)'
  }
  return undefined
}

/** Returns the path of an up-to-date delay program, compiling it if needed. */
export function ensureDelayProgram (): string {
  const mtime = (path: string): number => { try { return statSync(path).mtimeMs } catch { return -1 } }
  if (mtime(DELAY_PROGRAM) >= mtime(SOURCE)) return DELAY_PROGRAM
  mkdirSync(BUILD_DIR, { recursive: true })
  // Build under a temporary name, then rename: parallel test files never run a half-written binary.
  const tmp = `${DELAY_PROGRAM}.${process.pid}.tmp`
  execFileSync('gcc', ['-O2', '-Wall', '-o', tmp, SOURCE, '-lnetfilter_queue'], { stdio: ['ignore', 'ignore', 'pipe'] })
  renameSync(tmp, DELAY_PROGRAM)
  return DELAY_PROGRAM
}
