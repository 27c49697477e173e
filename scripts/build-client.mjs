// Bundles the browser code (client/) into dist/public with content-hashed names, and writes
// dist/public/index.html pointing at them, so assets can be cached forever.
import { build } from 'esbuild';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';

const out = 'dist/public';
mkdirSync(out, { recursive: true });
const result = await build({
  entryPoints: { app: 'client/main.ts', style: 'client/style.css' },
  bundle: true,
  minify: true,
  sourcemap: true,
  format: 'esm',
  target: ['es2020'],
  outdir: out,
  entryNames: '[name]-[hash]',
  metafile: true,
  logLevel: 'warning',
});
const outputs = Object.keys(result.metafile.outputs).map((file) => file.slice(out.length + 1));
const js = outputs.find((f) => /^app-.*\.js$/.test(f));
const css = outputs.find((f) => /^style-.*\.css$/.test(f));
const html = readFileSync('public/index.html', 'utf8')
  .replace('%APP_JS%', `/${js}`)
  .replace('%STYLE_CSS%', `/${css}`);
writeFileSync(`${out}/index.html`, html);
cpSync('public/icons.svg', `${out}/icons.svg`);
console.log(`client: ${js}, ${css}`);
