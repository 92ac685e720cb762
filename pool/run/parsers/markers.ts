// Finding markup (think tags, tool-call markers) in text that arrives in
// pieces. A marker can be split across pushes, so a parser holds back the end
// of its buffer while it could still be the start of a marker, and releases it
// once the next text proves otherwise. Shared by the reasoning parser and the
// tool-call formats so each of them is only its grammar.

export interface MarkerHit {
  /** where the marker starts in the scanned text */
  at: number;
  marker: string;
}

export interface MarkerScan {
  /** the earliest complete marker, if any */
  hit?: MarkerHit;
  /** without a hit: how much of the text is certainly not part of a marker */
  safe: number;
}

/** The earliest complete marker (the longest one when two start at the same place). */
export function findMarker(text: string, markers: readonly string[]): MarkerHit | undefined {
  let best: MarkerHit | undefined;
  for (const marker of markers) {
    const at = text.indexOf(marker);
    if (at < 0) continue;
    if (!best || at < best.at || (at === best.at && marker.length > best.marker.length)) best = { at, marker };
  }
  return best;
}

/** Length of the longest end of `text` that is the beginning (not the whole) of a marker. */
export function partialMarkerLength(text: string, markers: readonly string[]): number {
  const longest = markers.reduce((n, m) => Math.max(n, m.length), 0);
  for (let k = Math.min(text.length, longest - 1); k > 0; k--) {
    const tail = text.slice(text.length - k);
    if (markers.some((m) => m.startsWith(tail))) return k;
  }
  return 0;
}

/** A complete marker, or the part of the text that can be released. */
export function scanMarkers(text: string, markers: readonly string[]): MarkerScan {
  const hit = findMarker(text, markers);
  if (hit) return { hit, safe: hit.at };
  return { safe: text.length - partialMarkerLength(text, markers) };
}

/** Number of whitespace characters at the end of `text`. */
export function trailingSpace(text: string): number {
  return text.length - text.trimEnd().length;
}
