/**
 * Share links: `http://host:port/#/download/<content id>`, the demo's
 * download page on the node that runs the signaling server. Anything that
 * takes a content id also takes such a link.
 */
import { parseContentId } from '@chiral/core'

const LINK_MARK = '#/download/'

/** The HTTP root of the node serving `signalingUrl`, where its demo is (`ws://h:p/…` → `http://h:p/`). */
export function demoUrlOf (signalingUrl: string): string {
  const url = new URL(signalingUrl)
  url.protocol = url.protocol === 'wss:' ? 'https:' : 'http:'
  url.pathname = '/'
  url.search = ''
  url.hash = ''
  return url.toString()
}

/** The link that opens the demo's download page for `cid` at `base`. */
export function shareLink (base: string, cid: string): string {
  return `${base}${LINK_MARK}${cid}`
}

/**
 * The content id in `input`: a content id, or a share link carrying one.
 * Throws `InvalidContentIdError` for anything else.
 */
export function contentIdOf (input: string): string {
  const text = input.trim()
  const at = text.indexOf(LINK_MARK)
  const id = at >= 0 ? decodeURIComponent(text.slice(at + LINK_MARK.length)) : text
  return parseContentId(id).toString()
}
