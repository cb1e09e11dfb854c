/**
 * Scans the image config blob. `ARG`/`ENV` values persist there (in `config.Env` and in
 * `history[].created_by`) even when no layer holds them, and anyone who can pull the image
 * can read the config (PROTOCOLS.md §5.1, Docker's SecretsUsedInArgOrEnv check).
 *
 * Limitation: Docker's older `container_config` (the build container's Env and Cmd) is not
 * read; it normally repeats `config.Env` and the last history step.
 */

import { FileScanner } from './file-scanner.js';
import { ASSIGNMENT_RULE, isSecretAssignment } from './rules.js';
import type { Finding } from './types.js';
import { fingerprint, unquote } from './values.js';

/** A config field to scan and the `KEY=VALUE` pairs it sets. */
interface Field {
  path: string;
  text: string;
  assignments: [key: string, value: string][];
}

/** `KEY=value` in a shell line, `ENV`/`ARG` instruction or BuildKit's `RUN |2 A=1 B=2 …` prefix. */
const ASSIGNMENT = /(?<![\w$])([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|'[^']*'|[^\s"']+)/g;
/** The legacy `ENV KEY some value` form, without `=`. */
const LEGACY_ENV = /(?:^|\s)ENV\s+([A-Za-z_][A-Za-z0-9_]*)\s+([^=\s].*)$/s;

/**
 * Finds secrets in an image config: `config.Env[i]`, `config.Labels.<key>` and
 * `history[i].created_by`, with the content rules plus {@link ASSIGNMENT_RULE} for
 * secret-named variables set to literal values. A blob that is not JSON (some artifacts)
 * is scanned as text under the path `config`.
 */
export function scanConfig(json: Buffer): Finding[] {
  let doc: unknown;
  try {
    doc = JSON.parse(json.toString('utf8'));
  } catch {
    return scanField({ path: 'config', text: json.toString('utf8'), assignments: [] });
  }

  return fieldsOf(doc).flatMap(scanField);
}

function fieldsOf(doc: unknown): Field[] {
  const fields: Field[] = [];
  const root = asObject(doc);
  const config = asObject(root?.config);
  asArray(config?.Env).forEach((entry, i) => {
    if (typeof entry !== 'string') return;
    const eq = entry.indexOf('=');
    const assignments: Field['assignments'] = eq > 0 ? [[entry.slice(0, eq), entry.slice(eq + 1)]] : [];
    fields.push({ path: `config.Env[${i}]`, text: entry, assignments });
  });
  for (const [key, value] of Object.entries(asObject(config?.Labels) ?? {})) {
    if (typeof value === 'string') {
      fields.push({ path: `config.Labels.${key}`, text: value, assignments: [[key, value]] });
    }
  }
  asArray(root?.history).forEach((step, i) => {
    const createdBy = asObject(step)?.created_by;
    if (typeof createdBy !== 'string') return;
    fields.push({ path: `history[${i}].created_by`, text: createdBy, assignments: assignmentsIn(createdBy) });
  });

  return fields;
}

function assignmentsIn(command: string): Field['assignments'] {
  const found: Field['assignments'] = [...command.matchAll(ASSIGNMENT)].map((m) => [m[1]!, unquote(m[2]!)]);
  const legacy = LEGACY_ENV.exec(command);
  if (legacy) found.push([legacy[1]!, legacy[2]!.trim()]);

  return found;
}

/** Content rules over the field's text; the assignment rule only when they found nothing. */
function scanField(field: Field): Finding[] {
  const scanner = new FileScanner(field.path, Number.POSITIVE_INFINITY, false);
  scanner.write(Buffer.from(field.text, 'utf8'));
  const findings = scanner.finish();
  if (findings.length > 0) return findings;

  const seen = new Set<string>();
  for (const [key, value] of field.assignments) {
    if (!isSecretAssignment(key, value)) continue;
    const print = fingerprint(ASSIGNMENT_RULE.id, Buffer.from(value, 'utf8').toString('latin1'));
    if (seen.has(print)) continue;
    seen.add(print);
    findings.push({
      rule: ASSIGNMENT_RULE.id,
      description: ASSIGNMENT_RULE.description,
      path: field.path,
      fingerprint: print,
    });
  }

  return findings;
}

function asObject(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}
