/**
 * Windows device names: a file called `CON`, `nul.txt` or `COM1.tar.gz` opens
 * the device instead. Compared on the part before the first dot, any case.
 */
const WINDOWS_DEVICE = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$|clock\$)$/i

/** Bytes left for a name: 255 on common file systems, minus room for ` (999)` and `.part.json`. */
export const MAX_FILE_NAME_BYTES = 200

const encoder = new TextEncoder()

/**
 * Turns a name from a manifest (untrusted: the provider chose it) into a
 * plain file name that stays inside the destination directory on every OS:
 *
 * - path separators and Windows-reserved characters (`/ \ : * ? " < > |`)
 *   become `_`, so there is no directory part, no `..` and no absolute path;
 * - control characters and Unicode direction overrides are removed;
 * - leading dots and spaces go (no hidden files, no `.`/`..`), and so do
 *   trailing ones (Windows drops them silently);
 * - Windows device names (`CON`, `NUL.txt`, `COM1`…) get a `_` prefix;
 * - the result is cut to 200 UTF-8 bytes, keeping a short extension;
 * - an empty result becomes `fallback`.
 */
export function sanitizeFileName (name: string, fallback = 'file'): string {
  let s = String(name).normalize('NFC')
  // eslint-disable-next-line no-control-regex
  s = s.replace(/[\u0000-\u001f\u007f-\u009f]/g, '')
  s = s.replace(/[\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, '')
  s = s.replace(/[/\\:*?"<>|]/g, '_')
  s = trimEnds(s)
  const stem = s.split('.')[0]?.trim() ?? ''
  if (WINDOWS_DEVICE.test(stem)) s = `_${s}`
  s = trimEnds(truncate(s, MAX_FILE_NAME_BYTES))
  return s.length === 0 ? fallback : s
}

function trimEnds (s: string): string {
  return s.replace(/^[\s.]+/u, '').replace(/[\s.]+$/u, '')
}

function byteLength (s: string): number {
  return encoder.encode(s).byteLength
}

/** Cuts to `max` UTF-8 bytes on a code point boundary, keeping an extension of up to 16 bytes. */
function truncate (s: string, max: number): string {
  if (byteLength(s) <= max) return s
  const dot = s.lastIndexOf('.')
  const ext = dot > 0 && byteLength(s.slice(dot)) <= 16 ? s.slice(dot) : ''
  const budget = max - byteLength(ext)
  let out = ''
  let used = 0
  for (const cp of s.slice(0, s.length - ext.length)) {
    const n = byteLength(cp)
    if (used + n > budget) break
    out += cp
    used += n
  }
  return out + ext
}
