/**
 * A push-based tar reader: feed it decompressed chunks, it calls a visitor per entry and per
 * piece of file data, without copying file data and without buffering more than a header.
 *
 * Written here rather than taken from npm: it is small, synchronous (no stream per entry),
 * and measured faster than tar-stream, which parsed the same 126 MB tar at ≈ 450–500 MB/s
 * with one async iteration per entry. It reads ustar (with `prefix`), GNU long names (`L`)
 * and PAX extended headers (`path`, `size`); it hands over data only for regular files.
 */

/** Kinds of entries a visitor sees; metadata entries (`x`, `g`, `L`, `K`) are consumed here. */
export type EntryType = 'file' | 'directory' | 'symlink' | 'hardlink' | 'other';

export interface TarEntry {
  /** Name as stored (PAX `path` or GNU long name when present), not yet normalised. */
  path: string;
  type: EntryType;
  /** Data bytes that follow the header (0 for links, directories and devices). */
  size: number;
}

export interface TarVisitor {
  /** A new entry; return true to be handed its data. */
  entry(entry: TarEntry): boolean;
  /** The next piece of the current entry's data (a view into the pushed chunk). */
  data(chunk: Buffer): void;
  /** The current entry's data is complete (called only after `entry` returned true). */
  end(): void;
}

/** The bytes are not a readable tar archive. */
export class TarError extends Error {
  override name = 'TarError';
}

const BLOCK = 512;
/** Largest PAX header or GNU long name accepted; real ones are a few hundred bytes. */
const META_MAX = 1024 * 1024;

type Meta = 'pax' | 'longname' | 'skip';

/** Entry types that never carry data, whatever the size field says (as Go's archive/tar reads them). */
const HEADER_ONLY: Record<string, EntryType> = {
  '1': 'hardlink',
  '2': 'symlink',
  '3': 'other',
  '4': 'other',
  '5': 'directory',
  '6': 'other',
};

export class TarReader {
  private state: 'header' | 'data' | 'padding' | 'done' = 'header';
  private readonly header = Buffer.alloc(BLOCK);
  private headerFill = 0;
  private remaining = 0;
  private padding = 0;
  private deliver = false;
  private meta: Meta | undefined;
  private metaParts: Buffer[] = [];
  private paxPath: string | undefined;
  private paxSize: number | undefined;
  private longName: string | undefined;
  private headers = 0;

  constructor(private readonly visitor: TarVisitor) {}

  /** True once the end-of-archive block was read; later bytes are ignored. */
  get ended(): boolean {
    return this.state === 'done';
  }

  /** Headers read so far (0 until the first one is complete). */
  get headersRead(): number {
    return this.headers;
  }

  /**
   * Feeds the next decompressed bytes. Throws {@link TarError} on a malformed header. Returns
   * how many of the bytes the archive used: after its end-of-archive block, fewer than given.
   */
  push(chunk: Buffer): number {
    let at = 0;
    while (at < chunk.length && this.state !== 'done') {
      const available = chunk.length - at;
      if (this.state === 'header') {
        if (this.headerFill === 0 && available >= BLOCK) {
          this.onHeader(chunk.subarray(at, at + BLOCK));
          at += BLOCK;
          continue;
        }
        const n = Math.min(BLOCK - this.headerFill, available);
        chunk.copy(this.header, this.headerFill, at, at + n);
        this.headerFill += n;
        at += n;
        if (this.headerFill === BLOCK) {
          this.headerFill = 0;
          this.onHeader(this.header);
        }
      } else if (this.state === 'data') {
        const n = Math.min(this.remaining, available);
        this.onData(chunk.subarray(at, at + n));
        at += n;
        this.remaining -= n;
        if (this.remaining === 0) this.endEntry();
      } else {
        const n = Math.min(this.padding, available);
        at += n;
        this.padding -= n;
        if (this.padding === 0) this.state = 'header';
      }
    }

    return at;
  }

  /** Declares the input finished; throws {@link TarError} if it stopped inside an entry. */
  finish(): void {
    if (this.state === 'data' || (this.state === 'header' && this.headerFill > 0)) {
      throw new TarError('tar archive is truncated');
    }
  }

  private onHeader(block: Buffer): void {
    if (isZero(block)) {
      this.state = 'done';
      return;
    }
    if (!checksumMatches(block)) {
      throw new TarError(this.headers === 0 ? 'not a tar archive' : 'tar header checksum mismatch');
    }
    this.headers++;

    const flag = String.fromCharCode(block[156]!);
    let size = readNumber(block, 124, 12);
    if (flag === 'x' || flag === 'g' || flag === 'L' || flag === 'K') {
      if (size > META_MAX) throw new TarError('tar metadata entry is too large');
      this.meta = flag === 'x' ? 'pax' : flag === 'L' ? 'longname' : 'skip';
      this.startData(size, true);
      return;
    }

    const path = this.paxPath ?? this.longName ?? readName(block);
    if (this.paxSize !== undefined) size = this.paxSize;
    this.paxPath = this.paxSize = this.longName = undefined;

    const headerOnly = HEADER_ONLY[flag];
    const type: EntryType = headerOnly ?? (isFileFlag(flag) ? 'file' : 'other');
    if (headerOnly) size = 0;
    const wanted = this.visitor.entry({ path, type, size });
    this.startData(size, wanted && type === 'file');
  }

  private startData(size: number, deliver: boolean): void {
    this.deliver = deliver;
    this.remaining = size;
    this.padding = (BLOCK - (size % BLOCK)) % BLOCK;
    if (size === 0) this.endEntry();
    else this.state = 'data';
  }

  private onData(piece: Buffer): void {
    if (this.meta) this.metaParts.push(Buffer.from(piece));
    else if (this.deliver) this.visitor.data(piece);
  }

  private endEntry(): void {
    if (this.meta) {
      const body = Buffer.concat(this.metaParts);
      if (this.meta === 'pax') this.readPax(body);
      if (this.meta === 'longname') this.longName = cString(body, 0, body.length);
      this.meta = undefined;
      this.metaParts = [];
    } else if (this.deliver) {
      this.visitor.end();
    }
    this.deliver = false;
    this.state = this.padding > 0 ? 'padding' : 'header';
  }

  /** PAX records are `<length> <key>=<value>\n`, the length counting the whole record. */
  private readPax(body: Buffer): void {
    let at = 0;
    while (at < body.length) {
      const space = body.indexOf(0x20, at);
      const length = Number(body.toString('latin1', at, space));
      if (space === -1 || !Number.isInteger(length) || length <= 0 || at + length > body.length) {
        throw new TarError('malformed PAX header');
      }
      const record = body.toString('utf8', space + 1, at + length - 1);
      const eq = record.indexOf('=');
      const key = record.slice(0, eq);
      const value = record.slice(eq + 1);
      if (key === 'path' || key === 'GNU.sparse.name') this.paxPath = value;
      if (key === 'size') this.paxSize = Number(value);
      at += length;
    }
  }
}

/** Regular files: '0', NUL (old tar), '7' (contiguous) and 'S' (GNU sparse, data as stored). */
function isFileFlag(flag: string): boolean {
  return flag === '0' || flag === '\0' || flag === '7' || flag === 'S';
}

function isZero(block: Buffer): boolean {
  for (let i = 0; i < BLOCK; i++) if (block[i] !== 0) return false;

  return true;
}

/** The header checksum treats its own 8 bytes as spaces; some writers summed signed bytes. */
function checksumMatches(block: Buffer): boolean {
  const stored = readOctal(block, 148, 8);
  if (stored === undefined) return false;
  let unsigned = 8 * 0x20;
  let signed = 8 * 0x20;
  for (let i = 0; i < BLOCK; i++) {
    if (i >= 148 && i < 156) continue;
    const byte = block[i]!;
    unsigned += byte;
    signed += byte > 127 ? byte - 256 : byte;
  }

  return stored === unsigned || stored === signed;
}

/** Octal ASCII, or GNU base-256 when the top bit of the first byte is set. */
function readNumber(block: Buffer, at: number, length: number): number {
  if (block[at]! & 0x80) {
    let value = block[at]! & 0x3f;
    for (let i = at + 1; i < at + length; i++) value = value * 256 + block[i]!;
    return value;
  }
  const value = readOctal(block, at, length);
  if (value === undefined) throw new TarError('malformed number in tar header');

  return value;
}

/** Octal ASCII padded with spaces or NULs; undefined when it is not octal. */
function readOctal(block: Buffer, at: number, length: number): number | undefined {
  const text = block.toString('latin1', at, at + length).replace(/\0.*$/s, '').trim();
  if (text === '') return 0;

  return /^[0-7]+$/.test(text) ? parseInt(text, 8) : undefined;
}

function cString(block: Buffer, at: number, length: number): string {
  const nul = block.indexOf(0, at);
  const end = nul === -1 || nul > at + length ? at + length : nul;

  return block.toString('utf8', at, end);
}

/** Name, joined to the ustar `prefix` field (only POSIX ustar has one; GNU uses those bytes otherwise). */
function readName(block: Buffer): string {
  const name = cString(block, 0, 100);
  const posix = block.toString('latin1', 257, 263) === 'ustar\0';
  const prefix = posix ? cString(block, 345, 155) : '';

  return prefix ? `${prefix}/${name}` : name;
}
