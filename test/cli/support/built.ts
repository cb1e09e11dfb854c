import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** The installed command, which runs the compiled CLI under dist/. */
export const PORTCULLIS_BIN = path.join(REPO_ROOT, 'bin', 'portcullis.js');

/** The compiled metadata store, for child processes that use it directly. */
export const DIST_METADATA = path.join(REPO_ROOT, 'dist', 'src', 'storage', 'metadata', 'index.js');

const ENTRY = path.join(REPO_ROOT, 'dist', 'cli', 'main.js');

/**
 * Throws a clear error when the compiled CLI is missing, and warns when a source file is
 * newer than the build: these tests run `node bin/portcullis.js`, which runs dist/, not src/.
 */
export function requireBuild(): void {
  if (!existsSync(ENTRY)) {
    throw new Error(
      `${ENTRY} is missing: run \`npm run build\` before these tests (npm test does it)`,
    );
  }
  const built = statSync(ENTRY).mtimeMs;
  const newer = [
    ...sources(path.join(REPO_ROOT, 'src')),
    ...sources(path.join(REPO_ROOT, 'cli')),
  ].filter((file) => statSync(file).mtimeMs > built);
  if (newer.length > 0) {
    process.stderr.write(
      `\n!!! dist/ is older than ${newer.length} source file(s) (e.g. ${path.relative(REPO_ROOT, newer[0]!)}); ` +
        'these tests run the build: run `npm run build` first\n\n',
    );
  }
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sources(full);

    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [full] : [];
  });
}
