import type { Config } from '../config/schema.js';
import type { BlobDriver } from '../storage/blobs/driver.js';
import type { MetadataStore } from '../storage/metadata/index.js';
import type { ScanRecord } from '../storage/metadata/trust.js';
import { isAttachment, layersOf } from './artifacts.js';
import type { SecretMode } from './policy/document.js';
import { applyWhiteouts, detectCompression, scanConfig, scanLayer } from './scan/index.js';
import type { ScanPool } from './scan/pool.js';
import type { LayerFinding, LayerScan, ScanLimits } from './scan/types.js';
import type { TrustState } from './state.js';

/** Config blobs are small JSON; anything larger is not read whole. */
const MAX_CONFIG_BYTES = 4 * 1024 * 1024;
/** Enough of a blob to tell a tar archive (magic at byte 257) or a compressed stream from anything else. */
const TAR_HEADER = 512;

/** What the secret scan says about one manifest being pushed. */
export interface ManifestScan {
  mode: SecretMode;
  findings: LayerFinding[];
  /** Layers that could not be scanned to the end (a cap was hit, or the archive is corrupt). */
  incomplete: { layer: string; problem: string }[];
  /** The image config's digest, whose findings are listed as the config's, not a layer's. */
  config?: string;
}

/**
 * Scans pushed blobs for secrets, once per digest whichever repository they reach: right after
 * an upload completes (in the background), or at the latest when a manifest names them.
 */
export class SecretScanner {
  private readonly running = new Map<string, Promise<ScanRecord | undefined>>();

  constructor(
    private readonly store: MetadataStore,
    private readonly driver: BlobDriver,
    private readonly state: TrustState,
    private readonly config: Config['trust']['secretScan'],
    private readonly onError: (err: unknown, digest: string) => void,
    /** Worker threads for layer scans; without it, layers are scanned on this thread. */
    private readonly pool?: ScanPool,
  ) {}

  /** The namespace's mode: its policy's, or the registry-wide default. */
  async modeFor(repository: string): Promise<SecretMode> {
    return (await this.state.policyFor(repository))?.policy?.secrets ?? this.config.mode;
  }

  /**
   * Starts scanning a blob that was just pushed, when its namespace scans and the blob looks
   * like a layer (a tar archive, compressed or not). Other blobs (configs, signatures, SBOMs)
   * wait until a manifest names them as layers, so that they are not reported as broken archives.
   */
  soon(repository: string, digest: string): void {
    // Nothing here holds up the upload's answer, not even the peek at the blob's first bytes.
    const start = async () => {
      if ((await this.modeFor(repository)) === 'off' || !(await this.looksLikeLayer(digest))) return;
      await this.blob(digest);
    };
    start().catch((err) => this.onError(err, digest));
  }

  private async looksLikeLayer(digest: string): Promise<boolean> {
    const size = await this.driver.stat(digest);
    if (size === undefined || size < 4) return false;
    const parts: Buffer[] = [];
    for await (const part of await this.driver.read(digest, { start: 0, end: Math.min(size, TAR_HEADER) - 1 })) parts.push(part as Buffer);
    const head = Buffer.concat(parts);

    return detectCompression(head) !== 'none' || head.subarray(257, 262).toString('latin1') === 'ustar';
  }

  /** The blob's scan, done now if it was not done before; undefined when the blob is not held. */
  blob(digest: string): Promise<ScanRecord | undefined> {
    let scan = this.running.get(digest);
    if (!scan) {
      scan = this.scanOnce(digest).finally(() => this.running.delete(digest));
      this.running.set(digest, scan);
    }

    return scan;
  }

  private async scanOnce(digest: string): Promise<ScanRecord | undefined> {
    const done = await this.store.trust.scan(digest);
    if (done) return done;
    const scan = this.pool ? await this.pool.scan(digest) : await this.scanHere(digest);
    if (!scan) return undefined;
    const record: ScanRecord = {
      digest,
      complete: scan.complete,
      problem: scan.problem ?? null,
      findings: scan.findings,
      whiteouts: scan.whiteouts,
      bytes: scan.bytes,
      at: Date.now(),
    };
    await this.store.trust.saveScan(record);

    return record;
  }

  /** The layer scan on this thread; undefined when the blob is not held. */
  private async scanHere(digest: string): Promise<LayerScan | undefined> {
    let stream;
    try {
      stream = await this.driver.read(digest);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }

    return scanLayer(stream, scanLimits(this.config));
  }

  /**
   * Scans what a manifest being pushed names: each tar layer and the image config. Indexes and
   * attachments (signatures, attestations, SBOMs) are not scanned.
   */
  async manifest(repository: string, content: Buffer, subject: string | null, artifactType: string | null): Promise<ManifestScan> {
    const mode = await this.modeFor(repository);
    const result: ManifestScan = { mode, findings: [], incomplete: [] };
    if (mode === 'off' || isAttachment(subject, artifactType, content)) return result;
    // Every layer, whatever its media type claims: a key pushed as `application/octet-stream` is still pushed.
    const layers = layersOf(content);
    const scans: { digest: string; scan: LayerScan }[] = [];
    for (const layer of layers) {
      const record = await this.blob(layer.digest);
      if (!record) continue;
      if (!record.complete) result.incomplete.push({ layer: layer.digest, problem: record.problem ?? 'scan incomplete' });
      scans.push({ digest: layer.digest, scan: { findings: record.findings, whiteouts: record.whiteouts, bytes: record.bytes, files: 0, complete: record.complete } });
    }
    result.findings.push(...applyWhiteouts(scans));
    const config = configDigest(content);
    if (config) {
      result.config = config;
      result.findings.push(...(await this.configFindings(config)));
    }

    return result;
  }

  /** The config's findings, kept with the config blob (like a layer's) so that reports list them. */
  private async configFindings(digest: string): Promise<LayerFinding[]> {
    const done = await this.store.trust.scan(digest);
    if (done) return done.findings.map((f) => ({ ...f, layer: digest }));
    const size = await this.driver.stat(digest);
    if (size === undefined || size > MAX_CONFIG_BYTES) return [];
    const parts: Buffer[] = [];
    for await (const part of await this.driver.read(digest)) parts.push(part as Buffer);
    const findings = scanConfig(Buffer.concat(parts));
    await this.store.trust.saveScan({ digest, complete: true, problem: null, findings, whiteouts: [], bytes: size, at: Date.now() });

    return findings.map((f) => ({ ...f, layer: digest }));
  }
}

function configDigest(content: Buffer): string | undefined {
  try {
    const config = (JSON.parse(content.toString('utf8')) as { config?: { digest?: unknown; mediaType?: unknown } }).config;
    const type = typeof config?.mediaType === 'string' ? config.mediaType : '';

    return typeof config?.digest === 'string' && /config|container\.image/.test(type) ? config.digest : undefined;
  } catch {
    return undefined;
  }
}

/** The scanner's caps, as the config sets them. */
export function scanLimits(config: Config['trust']['secretScan']): ScanLimits {
  const { maxLayerBytes, maxFileBytes, maxEntries, maxRatio } = config;

  return { maxLayerBytes, maxFileBytes, maxEntries, maxRatio };
}

/** One line per finding, for a refusal or a log line: where, and which rule; never the secret. */
export function describeScan(scan: ManifestScan, limit = 10): string {
  const lines = [
    ...scan.findings.map((f) => `${f.layer === scan.config ? 'config' : 'layer'} ${f.layer} path ${f.path}${f.line ? `:${f.line}` : ''}: ${f.rule}${f.hiddenBy ? ` (deleted by ${f.hiddenBy}, still retrievable)` : ''}`),
    ...scan.incomplete.map((i) => `layer ${i.layer}: not fully scanned (${i.problem})`),
  ];
  const more = lines.length > limit ? `; and ${lines.length - limit} more` : '';

  return `${lines.slice(0, limit).join('; ')}${more}`;
}
