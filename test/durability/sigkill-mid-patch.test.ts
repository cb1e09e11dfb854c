import { uploadIdOf } from '../helpers/client.js';
import { readdir, stat } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { uploadPath, uploadsDir } from '../../src/storage/blobs/paths.js';
import { availableEngines, type Engine } from './support/engines.js';
import { Pattern } from './support/http.js';
import { startServerProcess, type ServerProcess } from './support/server-process.js';
import { errorCode, Session, type PushedImage } from './support/session.js';

const REPO = 'durable/killed';
const MiB = 1024 * 1024;
const TOTAL = 64 * MiB;
const ACKNOWLEDGED = MiB;
/** The server is killed once this much of the second chunk has been sent. */
const KILL_AFTER = 8 * MiB;

const engines = await availableEngines();

describe.each(engines)(
  'a server killed with SIGKILL in the middle of a large PATCH: $name',
  (engine) => {
    let server: ServerProcess;
    let session: Session;
    let before: PushedImage;
    let database: Awaited<ReturnType<Engine['database']>>;

    beforeEach(async () => {
      database = await engine.database();
      server = await startServerProcess({ env: database.env });
      session = new Session(server.url, 'admin', server.adminPassword);
      before = await session.pushImage(REPO, 'before');
    });
    afterEach(async () => {
      await server?.dispose();
      await database?.drop();
    });

    /** Starts an upload, has 1 MiB acknowledged, then kills the server under a slow 63 MiB PATCH. */
    async function killMidPatch(pattern: Pattern): Promise<string> {
      const location = await session.startUpload(REPO);
      const first = await session.patch(
        REPO,
        location,
        0,
        ACKNOWLEDGED,
        pattern.bytes(0, ACKNOWLEDGED),
      );
      expect(first.status).toBe(202);

      let killed: Promise<unknown> | undefined;
      const body = pattern.stream(ACKNOWLEDGED, TOTAL, {
        delayMs: 5,
        onProgress: (offset) => {
          if (offset >= ACKNOWLEDGED + KILL_AFTER) killed ??= server.stop('SIGKILL');
        },
      });
      await expect(
        session.patch(REPO, location, ACKNOWLEDGED, TOTAL - ACKNOWLEDGED, body),
      ).rejects.toThrow();
      expect(await killed).toEqual({ code: null, signal: 'SIGKILL' });
      // The dead server had written unacknowledged bytes past the offset: the case under test.
      const file = uploadPath(server.blobRoot, uploadIdOf(location));
      expect((await stat(file)).size).toBeGreaterThan(ACKNOWLEDGED);
      await server.start();

      return location;
    }

    it('shows nothing partial, keeps only acknowledged bytes, and lets the client resume', async () => {
      const pattern = new Pattern();
      const digest = pattern.digest(TOTAL);
      const location = await killMidPatch(pattern);

      expect((await session.headBlob(REPO, digest)).status).toBe(404);
      const after = await session.request(REPO, `/v2/${REPO}/manifests/after`);
      expect(after.status).toBe(404);
      expect(errorCode(after)).toBe('MANIFEST_UNKNOWN');
      const tags = await session.request(REPO, `/v2/${REPO}/tags/list`);
      expect(JSON.parse(tags.body.toString())).toEqual({ name: REPO, tags: ['before'] });

      const status = await session.status(REPO, location);
      expect(status.status).toBe(204);
      expect(status.headers.range).toBe(`0-${ACKNOWLEDGED - 1}`);

      const rest = await session.patch(
        REPO,
        location,
        ACKNOWLEDGED,
        TOTAL - ACKNOWLEDGED,
        pattern.stream(ACKNOWLEDGED, TOTAL),
      );
      expect(rest.status).toBe(202);
      expect(rest.headers.range).toBe(`0-${TOTAL - 1}`);
      expect((await session.complete(REPO, location, digest)).status).toBe(201);
      expect(await session.blobDigest(REPO, digest)).toEqual({ status: 200, size: TOTAL, digest });

      expect(await session.verifyImage(REPO, before)).toEqual([]);
      expect(await readdir(uploadsDir(server.blobRoot))).toEqual([]);
    });

    it('lets the client start the upload over instead, and leaves earlier content intact', async () => {
      const pattern = new Pattern();
      const digest = pattern.digest(TOTAL);
      await killMidPatch(pattern);

      const fresh = await session.startUpload(REPO);
      const whole = await session.patch(REPO, fresh, 0, TOTAL, pattern.stream(0, TOTAL));
      expect(whole.status).toBe(202);
      expect((await session.complete(REPO, fresh, digest)).status).toBe(201);
      expect(await session.blobDigest(REPO, digest)).toEqual({ status: 200, size: TOTAL, digest });
      expect(await session.verifyImage(REPO, before)).toEqual([]);
    });
  },
);
