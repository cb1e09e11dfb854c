import type { X509Certificate } from 'node:crypto';

/** The only payload content type a Notary Project signature may carry. */
export const PAYLOAD_TYPE = 'application/vnd.cncf.notary.payload.v1+json';

const SIGNING_SCHEME = 'io.cncf.notary.signingScheme';
const SIGNING_TIME = 'io.cncf.notary.signingTime';
const AUTHENTIC_SIGNING_TIME = 'io.cncf.notary.authenticSigningTime';
const EXPIRY = 'io.cncf.notary.expiry';
const PLUGIN_ATTRIBUTES = [
  'io.cncf.notary.verificationPlugin',
  'io.cncf.notary.verificationPluginMinVersion',
];

/** Critical attributes this verifier acts on; any other critical name makes it refuse. */
const UNDERSTOOD = new Set([SIGNING_SCHEME, AUTHENTIC_SIGNING_TIME, EXPIRY]);

/** Attributes the spec requires to be listed in `crit` whenever they are present. */
const MUST_BE_CRITICAL = [AUTHENTIC_SIGNING_TIME, EXPIRY];

/** The signing time each scheme requires among the signed attributes. */
const SCHEMES: Record<string, string> = {
  'notary.x509': SIGNING_TIME,
  'notary.x509.signingAuthority': AUTHENTIC_SIGNING_TIME,
};

/** A JWS or COSE envelope reduced to what the checks need, whatever its serialization. */
export interface NotationEnvelope {
  /** The signature algorithm, by its JWS name (COSE algorithm numbers are mapped to it). */
  algorithm: string;
  contentType: unknown;
  /** The names listed as critical, as the envelope spells them. */
  critical: unknown[];
  /** Signed notary attributes by name; signing time, authentic signing time and expiry are Dates. */
  attributes: Map<string, unknown>;
  payload: Buffer;
  /** The exact bytes the signature covers. */
  signingInput: Buffer;
  signature: Buffer;
  /** The certificate chain from the unsigned header, leaf first. */
  chain: X509Certificate[];
}

/** Why a signature proves nothing; thrown by the checks and turned into an Outcome at the top. */
export class Refusal extends Error {}

/**
 * Checks the signed attributes every notation envelope must have and returns the expiry, if
 * any. Refuses critical attributes it does not understand, since ignoring one could accept a
 * signature its signer meant to be limited.
 */
export function checkSignedAttributes(envelope: NotationEnvelope): { expiry?: Date } {
  const { attributes, critical } = envelope;
  if (envelope.contentType !== PAYLOAD_TYPE) {
    throw new Refusal(
      `payload content type is ${String(envelope.contentType)}, not ${PAYLOAD_TYPE}`,
    );
  }

  const plugin = PLUGIN_ATTRIBUTES.find((name) => attributes.has(name) || critical.includes(name));
  if (plugin)
    throw new Refusal(
      `signature requires a verification plugin (${plugin}), and the registry runs none`,
    );
  if (!critical.includes(SIGNING_SCHEME)) throw new Refusal(`crit does not list ${SIGNING_SCHEME}`);
  const unknown = critical.find((name) => typeof name !== 'string' || !UNDERSTOOD.has(name));
  if (unknown !== undefined) throw new Refusal(`unsupported critical header ${String(unknown)}`);
  const loose = MUST_BE_CRITICAL.find((name) => attributes.has(name) && !critical.includes(name));
  if (loose) throw new Refusal(`${loose} is present but not listed in crit`);

  const scheme = attributes.get(SIGNING_SCHEME);
  const timeAttribute = typeof scheme === 'string' ? SCHEMES[scheme] : undefined;
  if (!timeAttribute) throw new Refusal(`unsupported signing scheme ${String(scheme)}`);
  for (const name of [timeAttribute, EXPIRY]) {
    const value = attributes.get(name);
    if (value !== undefined && !(value instanceof Date))
      throw new Refusal(`${name} is not a valid time`);
  }
  if (!attributes.has(timeAttribute))
    throw new Refusal(`signing scheme ${scheme} requires ${timeAttribute}`);

  const expiry = attributes.get(EXPIRY);

  return expiry instanceof Date ? { expiry } : {};
}
