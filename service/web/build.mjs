// Bundles the browser islands into service/static/dist/ (minified, no CDN): `npm run build`.
// diagram-viewer.js also yields diagram-viewer.css (bpmn-js's styles and our markers).
import { build } from "esbuild";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));

await build({
  entryPoints: [path.join(here, "src/task-form.jsx"), path.join(here, "src/diagram-viewer.js")],
  outdir: path.join(here, "../static/dist"),
  bundle: true,
  minify: true,
  format: "iife",
  target: ["es2019"],
  jsx: "automatic",
  legalComments: "linked",
  define: { "process.env.NODE_ENV": '"production"' },
  logLevel: "warning",
});
