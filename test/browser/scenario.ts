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
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { launchChromium } from './support/chromium.js'
import { downloadFromLink, fetchesSeen, openDemo, pathTable, shareFile, turnDirectOff, waitForBadge, waitOnline } from './support/demo-pages.js'
import { startChiralNode } from './support/node-process.js'
import { startCliPeer } from './support/cli-peer.js'
import type { ChiralNodeProcess } from './support/node-process.js'
import type { CliPeer } from './support/cli-peer.js'
import type { DownloadOutcome, PathRow, ShareOutcome } from './support/demo-pages.js'
import type { Browser, Page } from 'playwright-core'
import { reportScenario } from './support/browser-tests.js'

export interface ScenarioInit {
  /** Who shares and who downloads: two pages, or the `chiral` command and a page. */
  kind: 'browser-to-browser' | 'cli-to-browser' | 'browser-to-cli'
  /** Drop all UDP in the namespace, so no WebRTC path can work. */
  blockWebRTC: boolean
  /**
   * The direct path dies mid-transfer: UDP passes until a third of the file's
   * size has crossed, then all of it is dropped. The node caps each relayed
   * connection so that the direct path has carried before the cut.
   */
  cutDirectMidway?: boolean
  /** The downloading page turns direct paths off on its Settings page first. */
  downloaderDirectOff?: boolean
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
  cid: string
  /** Set when a page shared. */
  share?: ShareOutcome
  /** Set when a page downloaded. */
  download?: DownloadOutcome
  /** Set when the `chiral` command downloaded. */
  nodeDownload?: {
    method: string
    bytesByMethod: Record<string, number>
    pathReports: Array<{ path: string, method: string, status: string, setupMs?: number, error?: string }>
    switches: string[]
    sha256: string
    bytes: number
    ms: number
  }
  /** The sharing page's transfer paths (Network page), when a page shared to a page. */
  sharerPaths?: PathRow[]
  /** What the sharing side counted: fetches and their methods. */
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

/**
 * Lets `bytes` of UDP through, then drops the rest. Counting in the kernel
 * makes the cut independent of how fast a LAN transfer outruns a test
 * polling the page.
 */
async function cutUdpAfter (bytes: number): Promise<void> {
  for (const chain of ['OUTPUT', 'INPUT']) {
    await exec('iptables', ['-w', '-A', chain, '-p', 'udp', '-m', 'quota', '--quota', String(bytes), '-j', 'ACCEPT'])
    await exec('iptables', ['-w', '-A', chain, '-p', 'udp', '-j', 'DROP'])
  }
}

/** Waits for the page's badge to move to the relay once the direct path died. */
async function waitForRelayBadge (page: Page): Promise<void> {
  await waitForBadge(page, 'relay', 0, 30_000)
  note(`badge on the relay at ${await page.getByTestId('progress').evaluate((p) => (p as HTMLProgressElement).value)} bytes`)
}

async function main (): Promise<ScenarioResult> {
  mkdirSync(init.workDir, { recursive: true })
  mkdirSync(init.screenshotsDir, { recursive: true })
  if (init.blockWebRTC) await blockUdp()
  // The node listens on every address of the namespace; pages open it on
  // 127.0.0.1 (a secure context, as `npm start` does), while WebRTC finds
  // its candidates on the namespace's veth.
  const node = await startChiralNode({
    bundle: init.nodeBundle,
    host: '0.0.0.0',
    demoDir: init.demoDir,
    workDir: init.workDir,
    args: init.cutDirectMidway === true ? ['--relay-rate-limit', '4MiB'] : []
  })
  let browser: Browser | undefined
  let peer: CliPeer | undefined
  try {
    browser = await launchChromium({ workDir: init.workDir })
    const content = randomBytes(init.sizeBytes)
    const expectedSha256 = createHash('sha256').update(content).digest('hex')
    const base = { kind: init.kind, blockWebRTC: init.blockWebRTC, expectedSha256, log }
    const name = `chiral-${init.label}.bin`
    switch (init.kind) {
      case 'browser-to-browser': {
        const [a, b] = await Promise.all([openOnline(browser, node, '#/share'), openOnline(browser, node, '#/network')])
        if (init.downloaderDirectOff === true) await turnDirectOff(b)
        const share = await shareFile(a, name, content)
        if (init.cutDirectMidway === true) await cutUdpAfter(Math.round(init.sizeBytes / 3))
        const download = await downloadFromLink(b, share.link, init.screenshotsDir, init.label, init.workDir, {
          ...(init.cutDirectMidway === true ? { whileTransferring: waitForRelayBadge } : {})
        }).catch(async (err: Error) => {
          // What the sharing side saw, for the failure report.
          await pathTable(a, join(init.screenshotsDir, `${init.label}-sharer-failed.png`)).catch(() => {})
          throw err
        })
        const sharerPaths = await pathTable(a, join(init.screenshotsDir, `${init.label}-sharer-network.png`))
        return { ...base, cid: share.cid, share, download, sharerPaths, providerSaw: await fetchesSeen(a) }
      }
      case 'cli-to-browser': {
        peer = startCliPeer({ signalingUrl: node.signalingUrl, direct: !init.blockWebRTC, log: note })
        const b = await openOnline(browser, node, '#/network')
        const file = join(init.workDir, name)
        await writeFile(file, content)
        const cid = await peer.share(file)
        const download = await downloadFromLink(b, `${node.demoUrl}#/download/${cid}`, init.screenshotsDir, init.label, init.workDir)
        return { ...base, cid, download, providerSaw: { count: peer.served.length, methods: [...peer.served] } }
      }
      case 'browser-to-cli': {
        peer = startCliPeer({ signalingUrl: node.signalingUrl, direct: !init.blockWebRTC, log: note })
        const a = await openOnline(browser, node, '#/share')
        const share = await shareFile(a, name, content)
        const started = Date.now()
        const dir = join(init.workDir, 'cli-downloads')
        const result = await peer.fetch(share.cid, dir)
        const bytes = await readFile(result.path)
        return {
          ...base,
          cid: share.cid,
          share,
          nodeDownload: {
            method: result.method,
            bytesByMethod: result.bytesByMethod,
            pathReports: result.pathReports,
            switches: result.switches,
            sha256: createHash('sha256').update(bytes).digest('hex'),
            bytes: bytes.length,
            ms: Date.now() - started
          },
          providerSaw: await fetchesSeen(a)
        }
      }
      default:
        throw new Error(`unknown scenario kind ${String(init.kind)}`)
    }
  } finally {
    await peer?.stop().catch(() => {})
    await browser?.close().catch(() => {})
    await node.stop()
    note(node.output().slice(-2000))
  }
}

/** Opens the demo at `hash` and waits until the page holds a relay reservation. */
async function openOnline (browser: Browser, node: ChiralNodeProcess, hash: string): Promise<Page> {
  const page = await openDemo(browser, `${node.demoUrl}${hash}`, note)
  try {
    await waitOnline(page)
  } catch (err) {
    await page.screenshot({ path: join(init.screenshotsDir, `${init.label}-offline.png`), fullPage: true }).catch(() => {})
    throw err
  }
  return page
}

reportScenario(main, log)
