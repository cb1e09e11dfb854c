import { createHash, randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BlobDriver } from '../../src/storage/blobs/driver.js';
import { chunked, collect, failingAfter, sha256 } from './support/fixtures.js';

/** One blob driver under test, on an empty store of its own. */
export interface DriverHarness {
  driver: BlobDriver;
  cleanup(): Promise<void>;
}

/** Upload ids as the registry makes them (UUIDs). */
const ID_A = '6f1c1e5e-1111-4c1e-9e1e-00000000000a';
const ID_B = '6f1c1e5e-1111-4c1e-9e1e-00000000000b';

/**
 * The conformance suite every blob driver (filesystem, S3, …) must pass: the whole BlobDriver
 * interface, byte for byte. `make` gives a fresh, empty store for every test.
 */
export function blobDriverSuite(name: string, make: () => Promise<DriverHarness>): void {
  describe(`blob driver conformance: ${name}`, () => {
    let harness: DriverHarness | undefined;
    const driver = (): BlobDriver => {
      if (!harness) throw new Error('the driver did not open');
      return harness.driver;
    };

    /** Uploads `bytes` under `id` and commits them; returns the digest. */
    const store = async (bytes: Buffer, id = ID_A): Promise<string> => {
      const digest = sha256(bytes);
      await driver().append(id, 0, chunked(bytes, 1024));
      await driver().commit(id, digest);

      return digest;
    };

    beforeEach(async () => {
      harness = await make();
    });
    afterEach(async () => {
      await harness?.cleanup();
      harness = undefined;
    });

    describe('finished blobs', () => {
      it('stat is undefined and read rejects with ENOENT for a blob the store does not hold', async () => {
        const digest = sha256('absent');

        expect(await driver().stat(digest)).toBeUndefined();
        // BlobService turns ENOENT into BLOB_UNKNOWN; every driver must report absence so.
        await expect(driver().read(digest)).rejects.toMatchObject({ code: 'ENOENT' });
      });

      it('read streams the whole blob and stat gives its size', async () => {
        const bytes = randomBytes(300_000);
        const digest = await store(bytes);

        expect(await driver().stat(digest)).toBe(bytes.byteLength);
        expect((await collect(await driver().read(digest))).equals(bytes)).toBe(true);
      });

      it('read with an inclusive range streams exactly those bytes', async () => {
        const bytes = randomBytes(1000);
        const digest = await store(bytes);

        const part = async (start: number, end: number) =>
          collect(await driver().read(digest, { start, end }));
        expect((await part(0, 0)).equals(bytes.subarray(0, 1))).toBe(true);
        expect((await part(10, 19)).equals(bytes.subarray(10, 20))).toBe(true);
        expect((await part(990, 999)).equals(bytes.subarray(990))).toBe(true);
        expect((await part(0, 999)).equals(bytes)).toBe(true);
      });

      it('an empty blob can be stored and read', async () => {
        const digest = await store(Buffer.alloc(0));

        expect(await driver().stat(digest)).toBe(0);
        expect((await collect(await driver().read(digest))).byteLength).toBe(0);
      });

      it('sha512 digests are stored like sha256 ones', async () => {
        const bytes = randomBytes(100);
        const digest = `sha512:${createHash('sha512').update(bytes).digest('hex')}`;
        await driver().append(ID_A, 0, chunked(bytes));
        await driver().commit(ID_A, digest);

        expect((await collect(await driver().read(digest))).equals(bytes)).toBe(true);
      });

      it('remove deletes a blob; removing an absent blob is not an error', async () => {
        const digest = await store(randomBytes(10));
        await driver().remove(digest);
        await driver().remove(digest);

        expect(await driver().stat(digest)).toBeUndefined();
        await expect(driver().read(digest)).rejects.toThrow();
      });
    });

    describe('uploads', () => {
      it('append writes from offset 0 and resolves with the new length', async () => {
        const bytes = randomBytes(5000);

        expect(await driver().append(ID_A, 0, chunked(bytes, 333))).toBe(5000);
        expect((await collect(driver().readUpload(ID_A, 5000))).equals(bytes)).toBe(true);
      });

      it('append at the current length continues the upload', async () => {
        const [a, b] = [randomBytes(100), randomBytes(250)];
        await driver().append(ID_A, 0, chunked(a));

        expect(await driver().append(ID_A, 100, chunked(b))).toBe(350);
        expect((await collect(driver().readUpload(ID_A, 350))).equals(Buffer.concat([a, b]))).toBe(
          true,
        );
      });

      it('append at an earlier offset discards everything stored past it first', async () => {
        const first = Buffer.from('0123456789');
        await driver().append(ID_A, 0, chunked(first));

        expect(await driver().append(ID_A, 4, chunked(Buffer.from('xy')))).toBe(6);
        expect((await collect(driver().readUpload(ID_A, 6))).toString()).toBe('0123xy');
        // Nothing of the old tail may come back: the upload is exactly six bytes now.
        await driver().commit(ID_A, sha256('0123xy'));
        expect(await driver().stat(sha256('0123xy'))).toBe(6);
      });

      it('append with an empty body truncates to the offset', async () => {
        await driver().append(ID_A, 0, chunked(Buffer.from('abcdef')));

        expect(await driver().append(ID_A, 2, chunked(Buffer.alloc(0)))).toBe(2);
        await driver().commit(ID_A, sha256('ab'));
        expect((await collect(await driver().read(sha256('ab')))).toString()).toBe('ab');
      });

      it('an interrupted append rejects, and the next append at the old offset starts clean', async () => {
        await driver().append(ID_A, 0, chunked(Buffer.from('keep')));

        await expect(
          driver().append(ID_A, 4, failingAfter(Buffer.from('lost-bytes'))),
        ).rejects.toThrow();
        expect(await driver().append(ID_A, 4, chunked(Buffer.from('-ok')))).toBe(7);
        expect((await collect(driver().readUpload(ID_A, 7))).toString()).toBe('keep-ok');
        await driver().commit(ID_A, sha256('keep-ok'));
        expect(await driver().stat(sha256('keep-ok'))).toBe(7);
      });

      it('readUpload streams only the first `length` bytes; zero gives nothing', async () => {
        await driver().append(ID_A, 0, chunked(Buffer.from('abcdefgh')));

        expect((await collect(driver().readUpload(ID_A, 3))).toString()).toBe('abc');
        expect((await collect(driver().readUpload(ID_A, 0))).byteLength).toBe(0);
      });

      it('readUpload of an upload the store does not hold fails with ENOENT', async () => {
        // UploadService tells a lost upload from a broken store by this code.
        await expect(collect(driver().readUpload(ID_B, 10))).rejects.toMatchObject({
          code: 'ENOENT',
        });
      });

      it('a large upload streams through in many chunks', async () => {
        const piece = randomBytes(64 * 1024);
        const hash = createHash('sha256');
        async function* pieces() {
          for (let i = 0; i < 128; i++) {
            hash.update(piece);
            yield piece;
          }
        }

        expect(await driver().append(ID_A, 0, pieces())).toBe(8 * 1024 * 1024);
        const digest = `sha256:${hash.digest('hex')}`;
        await driver().commit(ID_A, digest);
        expect(await driver().stat(digest)).toBe(8 * 1024 * 1024);
      });

      it('uploads with different ids do not touch each other', async () => {
        await driver().append(ID_A, 0, chunked(Buffer.from('first')));
        await driver().append(ID_B, 0, chunked(Buffer.from('second')));
        await driver().append(ID_A, 5, chunked(Buffer.from('!')));

        expect((await collect(driver().readUpload(ID_A, 6))).toString()).toBe('first!');
        expect((await collect(driver().readUpload(ID_B, 6))).toString()).toBe('second');
      });
    });

    describe('commit, abort and listing', () => {
      it('a blob is unreadable before commit and whole after it; the upload is gone', async () => {
        const bytes = randomBytes(4096);
        const digest = sha256(bytes);
        await driver().append(ID_A, 0, chunked(bytes, 1000));

        expect(await driver().stat(digest)).toBeUndefined();
        await expect(driver().read(digest)).rejects.toThrow();
        await driver().commit(ID_A, digest);
        expect(await driver().stat(digest)).toBe(4096);
        expect((await collect(await driver().read(digest))).equals(bytes)).toBe(true);
        expect(await driver().listUploads()).toEqual([]);
      });

      it('committing a digest the store already holds drops the upload and keeps the blob', async () => {
        const bytes = randomBytes(2048);
        const digest = await store(bytes, ID_A);
        await driver().append(ID_B, 0, chunked(bytes));
        await driver().commit(ID_B, digest);

        expect(await driver().listUploads()).toEqual([]);
        expect((await collect(await driver().read(digest))).equals(bytes)).toBe(true);
      });

      it('abort drops an upload; aborting an absent upload is not an error', async () => {
        await driver().append(ID_A, 0, chunked(Buffer.from('bytes')));
        await driver().abort(ID_A);
        await driver().abort(ID_A);
        await driver().abort(ID_B);

        expect(await driver().listUploads()).toEqual([]);
        // A fresh upload under the same id starts empty.
        expect(await driver().append(ID_A, 0, chunked(Buffer.from('new')))).toBe(3);
        expect((await collect(driver().readUpload(ID_A, 3))).toString()).toBe('new');
      });

      it('listUploads names every upload in progress, and nothing else', async () => {
        expect(await driver().listUploads()).toEqual([]);
        await driver().append(ID_A, 0, chunked(Buffer.from('a')));
        await driver().append(ID_B, 0, chunked(Buffer.from('b')));
        await store(Buffer.from('finished'), '6f1c1e5e-1111-4c1e-9e1e-00000000000c');

        expect((await driver().listUploads()).sort()).toEqual([ID_A, ID_B]);
      });

      it('check passes on a writable store and leaves nothing behind', async () => {
        await expect(driver().check()).resolves.toBeUndefined();

        expect(await driver().listUploads()).toEqual([]);
      });
    });
  });
}
