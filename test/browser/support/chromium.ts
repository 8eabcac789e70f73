/**
 * Launches Debian's Chromium through playwright-core, headless, with the
 * flags that make it quiet and testable: no sandbox (root), no GPU, no QUIC,
 * no background traffic, and real host ICE candidates instead of mDNS names.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium } from 'playwright-core'
import type { Browser } from 'playwright-core'

export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-features=WebRtcHideLocalIpsWithMdns'
]

/** Debian's Chromium binary, or undefined when it is not installed. */
export function findChromium (): string | undefined {
  for (const candidate of ['/usr/bin/chromium', '/usr/bin/chromium-browser']) {
    if (existsSync(candidate)) return candidate
  }
  try {
    const found = execFileSync('sh', ['-c', 'command -v chromium'], { encoding: 'utf8' }).trim()
    return found === '' ? undefined : found
  } catch {
    return undefined
  }
}

export interface LaunchInit {
  /** Folder for the profile and Chromium's temporary files (created when missing). */
  workDir: string
  extraArgs?: string[]
}

/** The system's temporary folder, read before anything changes TMPDIR. */
const SYSTEM_TMP = tmpdir()

/** Starts a headless Chromium with a fresh profile under `workDir`. */
export async function launchChromium (init: LaunchInit): Promise<Browser> {
  const executablePath = findChromium()
  if (executablePath === undefined) throw new Error('Chromium is not installed (apt-get install chromium)')
  // playwright-core makes a fresh profile in the temporary folder of this
  // process; Chromium leaves its own org.chromium.* folders in TMPDIR.
  mkdirSync(init.workDir, { recursive: true })
  // A short path: Chromium puts a Unix socket in TMPDIR, and socket paths are
  // limited to 108 bytes, so a folder inside a deep checkout can be too long.
  const tmp = mkdtempSync(join(SYSTEM_TMP, 'chiral-chromium-'))
  process.env.TMPDIR = tmp
  return chromium.launch({
    executablePath,
    headless: true,
    args: [...CHROMIUM_FLAGS, ...(init.extraArgs ?? [])],
    env: { ...process.env, TMPDIR: tmp },
    timeout: 60_000
  })
}
