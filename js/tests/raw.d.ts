// Vite (and so vitest) serves a file's text for imports ending in "?raw".
declare module "*?raw" {
  const text: string;
  export default text;
}
