// Vite (and so vitest) serves a file's text for imports ending in "?raw".
declare module "*?raw" {
  const text: string;
  export default text;
}

// Vite's import.meta.glob, in the one form the tests use (eager, raw text).
interface ImportMeta {
  glob(pattern: string | string[], options: { query: "?raw"; import: "default"; eager: true }): Record<string, string>;
}
