// A progress bar per benchmark phase (cli-progress); on a non-TTY (CI logs) it
// prints a line every few seconds instead of redrawing.
import { SingleBar, Presets } from "cli-progress";

export function progress(label: string, total: number, unit = "streams"): SingleBar {
  const bar = new SingleBar(
    { format: `${label.padEnd(34)} [{bar}] {value}/{total} ${unit}`, hideCursor: true, noTTYOutput: true, notTTYSchedule: 3000 },
    Presets.shades_classic,
  );
  bar.start(total, 0);
  return bar;
}
