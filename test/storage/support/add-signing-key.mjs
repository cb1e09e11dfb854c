// A separate process racing to store the first token-signing key in a SQLite data directory.
// Usage: node add-signing-key.mjs <compiled metadata index.js> <data dir> <start at, ms> <kid>
const [modulePath, dataDir, startAt, kid] = process.argv.slice(2);
const { openMetadataStore } = await import(modulePath);
const store = await openMetadataStore('sqlite', dataDir);
try {
  // Spin rather than sleep so every process leaves the gate within the same millisecond.
  while (Date.now() < Number(startAt));
  const keys = await store.principals.addSigningKeyIfNone({
    kid,
    privateJwk: '{}',
    publicJwk: '{}',
    createdAt: Date.now(),
  });
  process.stdout.write(JSON.stringify(keys.map((k) => k.kid)));
} finally {
  await store.close();
}
