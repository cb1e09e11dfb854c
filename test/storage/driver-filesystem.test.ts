import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FilesystemBlobDriver } from '../../src/storage/blobs/filesystem.js';
import { blobPath, uploadPath, uploadsDir } from '../../src/storage/blobs/paths.js';
import { blobDriverSuite } from './driver-suite.js';
import { chunked, sha256 } from './support/fixtures.js';

async function freshDriver(): Promise<{ driver: FilesystemBlobDriver; root: string }> {
  const root = await mkdtemp(path.join(tmpdir(), 'portcullis-blobs-'));
  const driver = new FilesystemBlobDriver(root);
  await driver.init();

  return { driver, root };
}

blobDriverSuite('filesystem', async () => {
  const { driver, root } = await freshDriver();

  return { driver, cleanup: () => rm(root, { recursive: true, force: true }) };
});

describe('filesystem blob driver: on-disk layout and permissions', () => {
  const id = '0c0ffee0-2222-4c1e-9e1e-000000000001';
  let driver: FilesystemBlobDriver;
  let root: string;

  const mode = async (file: string) => (await stat(file)).mode & 0o777;

  beforeEach(async () => {
    ({ driver, root } = await freshDriver());
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('init makes blobs/ and uploads/ readable by the owner only, and may run again', async () => {
    await driver.init();

    expect((await readdir(root)).sort()).toEqual(['blobs', 'uploads']);
    expect(await mode(path.join(root, 'blobs'))).toBe(0o700);
    expect(await mode(path.join(root, 'uploads'))).toBe(0o700);
  });

  it('an upload lives at uploads/<id>, mode 0600', async () => {
    await driver.append(id, 0, chunked(Buffer.from('partial')));

    const file = path.join(root, 'uploads', id);
    expect(uploadPath(root, id)).toBe(file);
    expect((await stat(file)).size).toBe(7);
    expect(await mode(file)).toBe(0o600);
  });

  it('a committed blob lives at blobs/<algorithm>/<first two hex>/<hex>, mode 0600', async () => {
    const bytes = randomBytes(64);
    const digest = sha256(bytes);
    const hex = digest.slice('sha256:'.length);
    await driver.append(id, 0, chunked(bytes));
    await driver.commit(id, digest);

    const file = path.join(root, 'blobs', 'sha256', hex.slice(0, 2), hex);
    expect(blobPath(root, digest)).toBe(file);
    expect((await stat(file)).size).toBe(64);
    expect(await mode(file)).toBe(0o600);
    expect(await mode(path.dirname(file))).toBe(0o700);
    expect(await mode(path.join(root, 'blobs', 'sha256'))).toBe(0o700);
    expect(await readdir(uploadsDir(root))).toEqual([]);
  });

  it('refuses upload ids and digests that could leave the store', async () => {
    for (const bad of ['../../etc/passwd', 'short', 'a/b/c/d/e/f/g/h', '.hidden-file']) {
      await expect(driver.append(bad, 0, chunked(Buffer.from('x')))).rejects.toThrow(TypeError);
      expect(() => driver.readUpload(bad, 1)).toThrow(TypeError);
    }
    for (const bad of [
      'sha256:../../../../etc/passwd',
      'sha256',
      ':abc',
      `SHA256:${'a'.repeat(64)}`,
    ]) {
      await expect(driver.stat(bad)).rejects.toThrow(TypeError);
      await expect(driver.commit(id, bad)).rejects.toThrow(TypeError);
    }
  });

  it('check leaves no probe file behind for listUploads to report', async () => {
    await driver.check();
    await driver.append(id, 0, chunked(Buffer.from('x')));

    expect(await driver.listUploads()).toEqual([id]);
  });

  it('check fails when the store directory is gone', async () => {
    await rm(root, { recursive: true, force: true });

    await expect(driver.check()).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
