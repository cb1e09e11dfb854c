import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuditEvent, AuditRecorder } from '../audit/recorder.js';
import { errorEnvelope, RegistryError } from '../errors/registry-error.js';
import type { Caller } from './caller.js';

/** What a handler learnt about the request that the audit record needs. */
export interface AuditFacts {
  principal?: string;
  /** The credential's name: a user, `robot+NAME`, `rule+NAME`, or the name tried at `/token`. */
  credential?: string;
  tokenId?: string;
  federated?: { issuer: string; subject: string; rule: string };
  repository?: string;
  reference?: string;
  /** The `/v2/<name>/<resource>` the request matched. */
  resource?: string;
  /** Set when a mount was asked for. */
  mount?: boolean;
  /** The manifest a tag resolved to, when the trust policy refused it (no digest header goes out then). */
  digest?: string;
}

/** Who is asking, as the audit record names them. */
export function callerFacts(caller: Caller): AuditFacts {
  return { principal: caller.principal, credential: caller.name, tokenId: caller.claims.jti, federated: caller.claims.federated };
}

declare module 'fastify' {
  interface FastifyRequest {
    audit: AuditFacts | null;
  }
}

const ACTIONS: Record<string, Record<string, string>> = {
  'blobs/:param': { GET: 'blob.pull', HEAD: 'blob.head', DELETE: 'blob.delete' },
  'blobs/uploads/': { POST: 'upload.start' },
  'blobs/uploads/:param': { PATCH: 'upload.chunk', PUT: 'blob.push', GET: 'upload.status', DELETE: 'upload.cancel' },
  'manifests/:param': { GET: 'manifest.pull', HEAD: 'manifest.head', PUT: 'manifest.push', DELETE: 'manifest.delete' },
  'tags/list': { GET: 'tags.list' },
  'referrers/:param': { GET: 'referrers.list' },
};
const PULLS = new Set(['manifest.pull', 'manifest.head', 'blob.pull', 'blob.head']);
/** Actions that change content or access: written before the response goes out. */
const CHANGES = new Set(['blob.delete', 'blob.push', 'blob.mount', 'upload.cancel', 'manifest.push', 'manifest.delete']);

/**
 * Records every content access, change, sign-in and admin change in the audit log: changes
 * before the response is sent (if that write fails, the client gets 503 instead of success),
 * reads and sign-ins queued as their responses start.
 */
export function registerAuditHooks(app: FastifyInstance, recorder: AuditRecorder, failClosed: (repository: string) => Promise<boolean>): void {
  app.decorateRequest('audit', null);
  app.addHook('onSend', async (request, reply, payload) => {
    const event = eventOf(request, reply);
    if (!event) return payload;
    // A namespace set to fail closed gets its pulls recorded first, like changes.
    const strict = PULLS.has(event.action) && event.outcome === 'allowed' && event.repository !== null && (await failClosed(event.repository));
    if (!strict && !isChange(event.action, request)) {
      // Queued as the response starts, not when it finishes: a client that closes the connection
      // as soon as it has the bytes leaves no 'finish' behind, and its pull must still be recorded.
      recorder.enqueue(event);
      return payload;
    }
    try {
      await recorder.record([event]);
      return payload;
    } catch (err) {
      request.log.error({ err }, 'failed to record a change in the audit log');
      const what = strict ? 'the pull' : 'the change';
      const failure = new RegistryError('UNAVAILABLE', `${what} could not be recorded in the audit log`);
      reply.code(503).header('Content-Type', 'application/json');
      return JSON.stringify(errorEnvelope(failure));
    }
  });
}

function isChange(action: string, request: FastifyRequest): boolean {
  return CHANGES.has(action) || (action.startsWith('admin.') && request.method !== 'GET');
}

function actionOf(request: FastifyRequest, status: number): string | undefined {
  const url = request.url;
  if (url.startsWith('/token')) return url.startsWith('/token/jwks') ? undefined : 'auth.token';
  if (url.startsWith('/auth/cli/token') || url.startsWith('/auth/callback')) return 'auth.signin';
  if (url.startsWith('/admin/v1')) return request.method === 'GET' ? undefined : `admin.${request.method.toLowerCase()}`;
  if (url.startsWith('/v2/_catalog')) return request.audit ? 'catalog.list' : undefined;
  const facts = request.audit;
  if (!facts?.resource) return undefined;
  const action = ACTIONS[facts.resource]?.[request.method];
  if (action === 'upload.start' && facts.mount && status === 201) return 'blob.mount';

  return action;
}

function eventOf(request: FastifyRequest, reply: FastifyReply): AuditEvent | undefined {
  const status = reply.statusCode;
  const action = actionOf(request, status);
  if (!action) return undefined;
  const facts = request.audit ?? {};
  const fields = request.logFields ?? {};
  const digest = reply.getHeader('docker-content-digest');
  const length = Number(reply.getHeader('content-length'));
  const admin = action.startsWith('admin.');

  return {
    at: Date.now(),
    requestId: request.id,
    action,
    outcome: status < 400 ? 'allowed' : status === 401 || status === 403 ? 'denied' : 'failed',
    reason: fields.denied ?? fields.refused ?? fields.error ?? fields.trust ?? null,
    principal: facts.principal ?? null,
    credential: (facts.credential ?? fields.user ?? null)?.slice(0, 200) ?? null,
    tokenId: facts.tokenId ?? null,
    federated: facts.federated ? JSON.stringify(facts.federated) : null,
    address: request.ip,
    userAgent: typeof request.headers['user-agent'] === 'string' ? request.headers['user-agent'].slice(0, 256) : null,
    repository: facts.repository ?? null,
    reference: admin ? request.url.split('?')[0]! : (facts.reference ?? null),
    digest: typeof digest === 'string' ? digest : facts.resource === 'blobs/:param' ? (facts.reference ?? null) : (facts.digest ?? null),
    bytes: request.method === 'GET' && status < 300 && Number.isFinite(length) ? length : null,
  };
}
