/**
 * The demo's settings: build-time defaults (`VITE_*` environment), overridden
 * in the Settings page and kept in localStorage. Pure functions over an
 * injected storage so they run anywhere.
 */

export interface DemoSettings {
  /**
   * ws:// or wss:// URLs of the signaling servers, one or several (instances
   * of one deployment): the peer registers on the first that answers and
   * moves to the next when it dies.
   */
  signalingUrls: string[]
  /**
   * Relay multiaddrs, each ending in `/p2p/<peer id>`. Empty: ask the
   * signaling servers' nodes (`/health` on the same hosts) for their
   * WebSocket addresses.
   */
  relays: string[]
  /** STUN/TURN URLs; `null` means the transport's defaults. */
  iceServers: string[] | null
  /** Accept private and loopback addresses (LAN, lab, one machine). */
  allowPrivateAddresses: boolean
  /** Try direct WebRTC paths; off leaves only the relay. */
  directConnections: boolean
}

export interface BuildEnv {
  /** One signaling URL, or several separated by commas. */
  VITE_SIGNALING_URL?: string
  VITE_RELAYS?: string
  VITE_ICE_SERVERS?: string
  VITE_ALLOW_PRIVATE_ADDRESSES?: string
}

export interface StorageLike {
  getItem(key: string): string | null
  setItem(key: string, value: string): void
  removeItem(key: string): void
}

export const STORAGE_KEY = 'chiral-demo:settings'

/** Splits a list typed by a person: commas, spaces or new lines. */
export function splitList (text: string | undefined): string[] {
  return (text ?? '').split(/[\s,]+/).map((s) => s.trim()).filter((s) => s.length > 0)
}

/** The signaling URL of a page served by the node itself: same host, ws(s). */
export function sameOriginSignalingUrl (location: { protocol: string, host: string }): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/`
}

/** True for hosts on loopback or in private / lab ranges. */
export function isPrivateHost (host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase()
  if (h === 'localhost' || h === '::1' || h.endsWith('.local')) return true
  const m = /^(\d+)\.(\d+)\.\d+\.\d+$/.exec(h)
  if (m != null) {
    const a = Number(m[1])
    const b = Number(m[2])
    return a === 10 || a === 127 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) ||
      (a === 198 && (b === 18 || b === 19)) || (a === 169 && b === 254) || (a === 100 && b >= 64 && b <= 127)
  }
  return h.startsWith('fc') || h.startsWith('fd') || h.startsWith('fe80:')
}

/** Defaults from the build environment and the page's location. */
export function defaultSettings (env: BuildEnv, location: { protocol: string, host: string, hostname: string }): DemoSettings {
  const listed = splitList(env.VITE_SIGNALING_URL)
  const signalingUrls = listed.length > 0 ? listed : [sameOriginSignalingUrl(location)]
  const ice = env.VITE_ICE_SERVERS
  const privateEnv = env.VITE_ALLOW_PRIVATE_ADDRESSES?.trim().toLowerCase()
  const signalingHosts = signalingUrls.map((u) => {
    try { return new URL(u).hostname } catch { return location.hostname }
  })
  return {
    signalingUrls,
    relays: splitList(env.VITE_RELAYS),
    iceServers: ice === undefined ? null : /^\s*none\s*$/i.test(ice) ? [] : splitList(ice),
    allowPrivateAddresses: privateEnv === undefined || privateEnv === ''
      ? signalingHosts.every(isPrivateHost)
      : /^(1|true|yes|on)$/.test(privateEnv),
    directConnections: true
  }
}

/** The saved settings over the defaults; anything malformed falls back to the default. */
export function loadSettings (storage: StorageLike | undefined, defaults: DemoSettings): DemoSettings {
  let saved: Partial<Record<keyof DemoSettings, unknown>> = {}
  try {
    const raw = storage?.getItem(STORAGE_KEY)
    if (raw != null) saved = JSON.parse(raw) as typeof saved
  } catch {
    return { ...defaults }
  }
  const strings = (v: unknown): string[] | undefined =>
    Array.isArray(v) && v.every((s) => typeof s === 'string') ? v as string[] : undefined
  // Settings saved before several URLs were possible hold one, as `signalingUrl`.
  const legacy = (saved as { signalingUrl?: unknown }).signalingUrl
  const savedUrls = strings(saved.signalingUrls) ?? (typeof legacy === 'string' ? [legacy] : undefined)
  return {
    signalingUrls: savedUrls !== undefined && savedUrls.length > 0 ? savedUrls : defaults.signalingUrls,
    relays: strings(saved.relays) ?? defaults.relays,
    iceServers: saved.iceServers === null ? null : strings(saved.iceServers) ?? defaults.iceServers,
    allowPrivateAddresses: typeof saved.allowPrivateAddresses === 'boolean' ? saved.allowPrivateAddresses : defaults.allowPrivateAddresses,
    directConnections: typeof saved.directConnections === 'boolean' ? saved.directConnections : defaults.directConnections
  }
}

export function saveSettings (storage: StorageLike | undefined, settings: DemoSettings): void {
  storage?.setItem(STORAGE_KEY, JSON.stringify(settings))
}

export function resetSettings (storage: StorageLike | undefined): void {
  storage?.removeItem(STORAGE_KEY)
}

/** Problems a person should fix before saving, in plain words. */
export function validateSettings (s: DemoSettings): string[] {
  const problems: string[] = []
  if (s.signalingUrls.length === 0) problems.push('Give at least one signaling server URL')
  for (const u of s.signalingUrls) {
    if (!/^wss?:\/\/[^/]+/.test(u)) problems.push(`The signaling server URL "${u}" must start with ws:// or wss://`)
  }
  for (const r of s.relays) {
    if (!r.startsWith('/') || !/\/p2p\/[1-9A-HJ-NP-Za-km-z]+$/.test(r)) problems.push(`Relay "${r}" must be a multiaddr ending in /p2p/<peer id>`)
  }
  for (const u of s.iceServers ?? []) {
    if (!/^(stun|stuns|turn|turns):/.test(u)) problems.push(`ICE server "${u}" must start with stun:, stuns:, turn: or turns:`)
  }
  return problems
}
