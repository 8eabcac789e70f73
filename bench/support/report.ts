/** What every benchmark prints: its markdown, then one JSON line with the raw results (bench/run.ts reads both). */

/** The median of `xs` (NaN for none). */
export function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  if (s.length === 0) return NaN
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}

/** Prints the markdown (`intro`, a blank line, `table`, a blank line, `goals`) and the JSON line. */
export function printReport (bench: string, parts: { intro: string[], table: string[], goals: string[] }, data: Record<string, unknown>): void {
  const markdown = [...parts.intro, '', ...parts.table, '', ...parts.goals].join('\n')
  console.log(markdown)
  console.log(JSON.stringify({ bench, ...data, markdown }))
}
