/** The app's pages, addressed by the URL's hash so links work on any static host. */
export type Route =
  | { page: 'network' }
  | { page: 'share' }
  | { page: 'download', cid?: string }
  | { page: 'settings' }

/** Parses `#/download/<cid>`, `#/share`, … (anything unknown is the Share page). */
export function parseRoute (hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').filter((p) => p !== '').map(decodeURIComponent)
  switch (parts[0]) {
    case 'network': return { page: 'network' }
    case 'settings': return { page: 'settings' }
    case 'download': return parts[1] === undefined ? { page: 'download' } : { page: 'download', cid: parts[1] }
    default: return { page: 'share' }
  }
}
