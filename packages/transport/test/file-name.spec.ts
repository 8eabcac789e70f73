import { join, resolve, dirname } from 'node:path'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { sanitizeFileName } from '../src/index.js'

describe('sanitizeFileName', () => {
  it.each([
    ['../../etc/passwd', '_.._etc_passwd'],
    ['/etc/passwd', '_etc_passwd'],
    ['C:\\Windows\\system32\\cmd.exe', 'C__Windows_system32_cmd.exe'],
    ['..', 'file'],
    ['.', 'file'],
    ['', 'file'],
    ['   ', 'file'],
    ['.bashrc', 'bashrc'],
    ['report.pdf.', 'report.pdf'],
    ['CON', '_CON'],
    ['nul.txt', '_nul.txt'],
    ['com1.tar.gz', '_com1.tar.gz'],
    ['LPT9', '_LPT9'],
    ['console.log', 'console.log'],
    ['a\u0000b\nc\u007f.txt', 'abc.txt'],
    ['invoice\u202Efdp.exe', 'invoicefdp.exe'],
    ['what?<>|*".txt', 'what______.txt'],
    ['photo 1.jpg', 'photo 1.jpg'],
    ['naïve café.txt', 'naïve café.txt']
  ])('%j → %j', (input, expected) => {
    expect(sanitizeFileName(input)).toBe(expected)
  })

  it('cuts long names to 200 bytes on a character boundary and keeps the extension', () => {
    const out = sanitizeFileName('é'.repeat(300) + '.jpeg')
    expect(new TextEncoder().encode(out).byteLength).toBeLessThanOrEqual(200)
    expect(out.endsWith('.jpeg')).toBe(true)
    expect(out).not.toContain('\uFFFD')
  })

  it('never yields a name that leaves the directory or is hidden or empty', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (name) => {
      const out = sanitizeFileName(name)
      const dir = '/tmp/destination'
      expect(out.length).toBeGreaterThan(0)
      expect(out).not.toMatch(/[/\\:*?"<>|\u0000-\u001f]/)
      expect(out.startsWith('.')).toBe(false)
      expect(dirname(resolve(join(dir, out)))).toBe(dir)
      expect(new TextEncoder().encode(out).byteLength).toBeLessThanOrEqual(200)
    }), { numRuns: 2000 })
  })
})
