// Formatting helpers for the widget. Pure; they accept anything a trait may
// hold at run time and never throw.

function isUsableNumber(x: unknown): x is number {
  return typeof x === "number" && Number.isFinite(x);
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/**
 * Remaining time, e.g. "<1 s", "12 s", "1 min 05 s", "1 h 02 min".
 * Missing, negative, NaN or infinite input gives "" (nothing to show).
 */
export function formatEta(seconds: number | null | undefined): string {
  if (!isUsableNumber(seconds) || seconds < 0) {
    return "";
  }
  if (seconds < 1) {
    return "<1 s";
  }
  const total = Math.round(seconds);
  if (total < 60) {
    return `${total} s`;
  }
  if (total < 3600) {
    return `${Math.floor(total / 60)} min ${pad2(total % 60)} s`;
  }
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  return `${hours} h ${pad2(minutes)} min`;
}

/**
 * Elapsed time as a clock: "0:07", "1:05", "1:02:03" (whole seconds, rounded
 * down). Missing, negative, NaN or infinite input gives "0:00".
 */
export function formatElapsed(seconds: number | null | undefined): string {
  const total = isUsableNumber(seconds) && seconds > 0 ? Math.floor(seconds) : 0;
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const secs = total % 60;
  return hours > 0 ? `${hours}:${pad2(minutes)}:${pad2(secs)}` : `${minutes}:${pad2(secs)}`;
}

const BYTE_UNITS = ["KB", "MB", "GB", "TB", "PB"] as const;

/**
 * Size with binary units (1 KB = 1024 B): "512 B", "1.5 KB", "2.3 MB", "1.0 GB".
 * Missing, negative, NaN or infinite input gives "".
 */
export function formatBytes(n: number | null | undefined): string {
  if (!isUsableNumber(n) || n < 0) {
    return "";
  }
  if (Math.round(n) < 1024) {
    return `${Math.round(n)} B`;
  }
  let value = n / 1024;
  let unit = 0;
  // Move up while the value would print as 1024.0 or more (1023.96 KB -> "1.0 MB").
  while (unit < BYTE_UNITS.length - 1 && Number(value.toFixed(1)) >= 1024) {
    value /= 1024;
    unit += 1;
  }
  return `${value.toFixed(1)} ${BYTE_UNITS[unit] ?? "PB"}`;
}

/**
 * A progress value as an integer percentage in 0..100. NaN and non-numbers give 0.
 * Only a value of 100 or more gives 100, so 99.6 shows as 99, not as done.
 */
export function clampPercent(x: number | null | undefined): number {
  if (typeof x !== "number" || Number.isNaN(x)) {
    return 0;
  }
  if (x >= 100) {
    return 100;
  }
  if (x <= 0) {
    return 0;
  }
  return Math.min(99, Math.round(x));
}
