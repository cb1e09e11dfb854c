// Realistic image layers for push benchmarks: ustar archives of source text, compiled
// binaries and incompressible data, gzip-compressed like `docker push` does (level 6).
// Built once, in memory, before anything is timed.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { sha256 } from './blobsrc.js';

const gzip = promisify(zlib.gzip);
const BLOCK = 512;

/** One ustar header block; names must fit the 100-byte name field. */
function tarHeader(name, size, mode = 0o644) {
  const h = Buffer.alloc(BLOCK);
  const octal = (n, width) => `${n.toString(8).padStart(width - 1, '0')}\0`;
  h.write(name, 0, 100);
  h.write(octal(mode, 8), 100);
  h.write(octal(0, 8), 108); // uid
  h.write(octal(0, 8), 116); // gid
  h.write(octal(size, 12), 124);
  h.write(octal(1_700_000_000, 12), 136); // fixed mtime keeps digests reproducible
  h.write('0', 156); // regular file
  h.write('ustar\0', 257);
  h.write('00', 263);
  h.fill(' ', 148, 156); // the checksum is computed with its own field as spaces
  let sum = 0;
  for (const byte of h) sum += byte;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);

  return h;
}

/** Collects tar entries as buffers; `bytes` is the archive size so far. */
class TarBuilder {
  parts = [];
  bytes = 0;

  add(name, data, mode) {
    const pad = (BLOCK - (data.length % BLOCK)) % BLOCK;
    this.parts.push(tarHeader(name, data.length, mode), data);
    if (pad) this.parts.push(Buffer.alloc(pad));
    this.bytes += BLOCK + data.length + pad;
  }

  finish() {
    this.parts.push(Buffer.alloc(2 * BLOCK)); // end-of-archive marker

    return Buffer.concat(this.parts);
  }
}

/** Regular files under `root` whose name passes `keep`, up to `limit` of them. */
function listFiles(root, keep, limit) {
  const found = [];
  const stack = [root];
  while (stack.length && found.length < limit) {
    const dir = stack.pop();
    let entries;
    try { entries = fs.readdirSync(dir, { withFileTypes: true }); } catch { continue; }
    for (const e of entries) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) stack.push(full);
      else if (e.isFile() && keep(e.name)) found.push(full);
    }
  }

  return found.sort();
}

/**
 * The files layers are filled from: text sources from the repository's node_modules and
 * ELF binaries and shared libraries from the system. Contents are read when first used.
 */
export function contentPools(repoRoot) {
  const text = listFiles(path.join(repoRoot, 'node_modules'), (n) => /\.(js|cjs|mjs|ts|json|md)$/.test(n), 200_000);
  const binary = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/bin', '/usr/sbin']
    .flatMap((d) => listFiles(d, (n) => /\.so(\.\d+)*$/.test(n) || !n.includes('.'), 20_000));
  if (text.length < 100) throw new Error(`too few source files under ${repoRoot}/node_modules (${text.length})`);
  if (binary.length < 20) throw new Error(`too few binaries under /usr (${binary.length})`);

  return { text, binary };
}

/** Appends files from `pool`, starting at `start` and wrapping around, until `target` bytes. */
function fillFrom(tar, pool, start, target, prefix) {
  for (let i = 0; tar.bytes < target; i++) {
    const file = pool[(start + i) % pool.length];
    let data;
    try { data = fs.readFileSync(file); } catch { continue; }
    if (data.length === 0 || data.length > 16 * 2 ** 20) continue;
    const base = path.basename(file).slice(0, 60);
    tar.add(`${prefix}/${i}/${base}`, data, prefix.startsWith('usr') ? 0o755 : 0o644);
  }
}

/** Appends incompressible files (as images carry compressed assets) until `target` bytes. */
function fillRandom(tar, target, prefix) {
  for (let i = 0; tar.bytes < target; i++) {
    tar.add(`${prefix}/asset-${i}.bin`, crypto.randomBytes(64 * 1024 + ((i * 7919) % (512 * 1024))));
  }
}

/** A made-up PEM private key, assembled at run time so no key sits in the source. */
export function plantedSecret() {
  const kind = ['RSA', 'PRIVATE', 'KEY'].join(' ');
  const body = crypto.randomBytes(1190).toString('base64').match(/.{1,64}/g).join('\n');

  return `-----BEGIN ${kind}-----\n${body}\n-----END ${kind}-----\n`;
}

/** Layer recipes: share of the layer from text, binaries and random data, and size in MB. */
const RECIPES = [
  { role: 'base', mb: 24, text: 0.2, binary: 0.7 },
  { role: 'deps', mb: 20, text: 0.8, binary: 0.1 },
  { role: 'app', mb: 6, text: 0.9, binary: 0 },
];

/**
 * Builds one layer: a unique marker file, then text, binaries and random data by the recipe.
 * Returns the compressed blob with its digest, and the tar's size and diff ID.
 */
async function buildLayer(pools, { image, index, scale, secret }) {
  const recipe = RECIPES[index];
  const size = recipe.mb * 1e6 * scale;
  const tar = new TarBuilder();
  tar.add(`etc/bench-layer-${image}-${index}`, Buffer.from(`image ${image} layer ${index} ${crypto.randomUUID()}\n`));
  if (secret) tar.add('srv/app/config/deploy-key.pem', Buffer.from(secret), 0o600);
  fillFrom(tar, pools.text, image * 7919 + index * 104729, size * recipe.text, `srv/${recipe.role}/src`);
  fillFrom(tar, pools.binary, image * 613 + index * 211, size * (recipe.text + recipe.binary), `usr/${recipe.role}/lib`);
  fillRandom(tar, size, `srv/${recipe.role}/assets`);
  const archive = tar.finish();
  const blob = await gzip(archive, { level: 6 });

  return { digest: sha256(blob), size: blob.length, blob, diffId: sha256(archive), tarBytes: archive.length, secret: Boolean(secret) };
}

/**
 * Builds `images` images of three layers each (base, deps, app; about 50 MB of tar at
 * scale 1, varied by ±30 % between images) plus a config. The first image's app layer
 * carries `secret` at srv/app/config/deploy-key.pem.
 */
export async function buildImages(repoRoot, { images, scale, secret }) {
  const pools = contentPools(repoRoot);
  const out = [];
  for (let image = 0; image < images; image++) {
    const imageScale = scale * (0.7 + (0.6 * ((image * 5) % images)) / Math.max(1, images - 1));
    const layers = await Promise.all(RECIPES.map((_, index) => buildLayer(pools, {
      image, index, scale: imageScale, secret: image === 0 && index === 2 ? secret : undefined,
    })));
    const config = Buffer.from(JSON.stringify({
      architecture: 'amd64', os: 'linux', created: new Date(1_700_000_000_000).toISOString(),
      config: { Env: ['PATH=/usr/local/bin:/usr/bin:/bin'], Cmd: ['/usr/bin/node', 'srv/app/index.js'] },
      rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
      history: layers.map((l, i) => ({ created_by: `bench layer ${i}` })),
    }));
    out.push({ layers, config: { digest: sha256(config), size: config.length, blob: config } });
  }

  return out;
}
