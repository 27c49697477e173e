// Bundles the browser code (client/) into dist/public with content-hashed names, and writes
// dist/public/index.html pointing at them, so assets can be cached forever. Source maps go to
// dist/client-maps, which web does not serve: they are for reading a minified stack trace, not
// for the public (the bundles carry no sourceMappingURL either).
import { build } from 'esbuild';
import {
  cpSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';

const out = 'dist/public';
const maps = 'dist/client-maps';
mkdirSync(out, { recursive: true });
mkdirSync(maps, { recursive: true });
const result = await build({
  entryPoints: { app: 'client/main.ts', style: 'client/style.css' },
  bundle: true,
  minify: true,
  sourcemap: 'external',
  format: 'esm',
  target: ['es2020'],
  outdir: out,
  entryNames: '[name]-[hash]',
  metafile: true,
  logLevel: 'warning',
});
for (const file of readdirSync(out).filter((name) => name.endsWith('.map'))) {
  // This build's maps move out of the served folder; an older build's are dropped.
  if (result.metafile.outputs[`${out}/${file}`]) renameSync(`${out}/${file}`, `${maps}/${file}`);
  else rmSync(`${out}/${file}`);
}
const outputs = Object.keys(result.metafile.outputs).map((file) => file.slice(out.length + 1));
const js = outputs.find((f) => /^app-.*\.js$/.test(f));
const css = outputs.find((f) => /^style-.*\.css$/.test(f));
const html = readFileSync('public/index.html', 'utf8')
  .replace('%APP_JS%', `/${js}`)
  .replace('%STYLE_CSS%', `/${css}`);
writeFileSync(`${out}/index.html`, html);
cpSync('public/icons.svg', `${out}/icons.svg`);
console.log(`client: ${js}, ${css}`);
