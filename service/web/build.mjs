// Bundles the browser islands into service/static/dist/ (minified, no CDN): `npm run build`.
// diagram-viewer.js also yields diagram-viewer.css (bpmn-js's styles and our markers); the modeler pages'
// bundles (src/modeler/) yield modeler-editor.css and modeler-diff.css the same way.
import { build } from "esbuild";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const src = (file) => path.join(here, "src", file);

await build({
  entryPoints: {
    "task-form": src("task-form.jsx"),
    "diagram-viewer": src("diagram-viewer.js"),
    "modeler-editor": src("modeler/editor.js"),
    "modeler-diff": src("modeler/diff.js"),
    "modeler-versions": src("modeler/versions.js"),
  },
  outdir: path.join(here, "../static/dist"),
  bundle: true,
  minify: true,
  format: "iife",
  target: ["es2019"],
  jsx: "automatic",
  legalComments: "linked",
  define: { "process.env.NODE_ENV": '"production"' },
  // the icon fonts are embedded as WOFF data URLs; their legacy fallbacks (eot, svg) are left out
  loader: { ".eot": "empty", ".svg": "empty", ".ttf": "empty" },
  logLevel: "warning",
});
