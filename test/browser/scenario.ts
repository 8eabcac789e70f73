/**
 * One browser scenario, run INSIDE a network namespace (see
 * support/netns.ts): starts the real chiral-node serving the built demo,
 * launches headless Chromium, drives the pages, and prints one JSON line
 * with what happened. Usage:
 *
 *   ip netns exec <ns> node --conditions=source --import tsx scenario.ts '<ScenarioInit JSON>'
 */
import { createHash, randomBytes } from 'node:crypto'
import { execFile } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { promisify } from 'node:util'
import { launchChromium } from './support/chromium.js'
import { downloadFromLink, fetchesSeen, openDemo, shareFile, waitOnline } from './support/demo-pages.js'
import { startChiralNode } from './support/node-process.js'
import type { DownloadOutcome, ShareOutcome } from './support/demo-pages.js'
import type { Browser } from 'playwright-core'

export interface ScenarioInit {
  kind: 'browser-to-browser'
  /** Drop all UDP in the namespace, so no WebRTC path can work. */
  blockWebRTC: boolean
  sizeBytes: number
  demoDir: string
  nodeBundle: string
  workDir: string
  screenshotsDir: string
  label: string
}

export interface ScenarioResult {
  kind: ScenarioInit['kind']
  blockWebRTC: boolean
  expectedSha256: string
  share: ShareOutcome
  download: DownloadOutcome
  /** What the sharing page counted: fetches and their methods. */
  providerSaw: { count: number, methods: string[] }
  log: string[]
}

const exec = promisify(execFile)
const init = JSON.parse(process.argv[2] ?? '{}') as ScenarioInit
const log: string[] = []
const note = (line: string): void => { log.push(line.slice(0, 500)); if (log.length > 200) log.shift() }

async function blockUdp (): Promise<void> {
  // Like a firewall that lets only TCP out: ICE checks and DTLS never arrive.
  await exec('iptables', ['-w', '-I', 'OUTPUT', '-p', 'udp', '-j', 'DROP'])
  await exec('iptables', ['-w', '-I', 'INPUT', '-p', 'udp', '-j', 'DROP'])
}

async function main (): Promise<ScenarioResult> {
  mkdirSync(init.workDir, { recursive: true })
  mkdirSync(init.screenshotsDir, { recursive: true })
  if (init.blockWebRTC) await blockUdp()
  // The node listens on every address of the namespace; pages open it on
  // 127.0.0.1 (a secure context, as `npm start` does), while WebRTC finds
  // its candidates on the namespace's veth.
  const node = await startChiralNode({ bundle: init.nodeBundle, host: '0.0.0.0', demoDir: init.demoDir, workDir: init.workDir })
  let browser: Browser | undefined
  try {
    browser = await launchChromium({ workDir: init.workDir })
    const content = randomBytes(init.sizeBytes)
    const expectedSha256 = createHash('sha256').update(content).digest('hex')
    const a = await openDemo(browser, `${node.demoUrl}#/share`, note)
    const b = await openDemo(browser, `${node.demoUrl}#/network`, note)
    await Promise.all([waitOnline(a), waitOnline(b)]).catch(async (err: Error) => {
      await a.screenshot({ path: `${init.screenshotsDir}/${init.label}-offline-a.png`, fullPage: true }).catch(() => {})
      await b.screenshot({ path: `${init.screenshotsDir}/${init.label}-offline-b.png`, fullPage: true }).catch(() => {})
      throw err
    })
    const share = await shareFile(a, `chiral-${init.label}.bin`, content)
    const download = await downloadFromLink(b, share.link, init.screenshotsDir, init.label, init.workDir)
    const providerSaw = await fetchesSeen(a)
    return { kind: init.kind, blockWebRTC: init.blockWebRTC, expectedSha256, share, download, providerSaw, log }
  } finally {
    await browser?.close().catch(() => {})
    await node.stop()
    note(node.output().slice(-2000))
  }
}

main().then((result) => {
  process.stdout.write(JSON.stringify(result) + '\n')
  process.exit(0)
}, (err: Error) => {
  process.stderr.write(`${err.stack ?? String(err)}\n${log.join('\n')}\n`)
  process.exit(1)
})
