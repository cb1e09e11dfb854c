import { describe, expect, it } from 'vitest';
import { scanConfig } from '../../src/trust/scan/index.js';
import { expectedFingerprint, randomText, token } from './scan-helpers.js';

const ghToken = token('gh', 'p_', randomText(36, 400));
const awsSecret = token('Zq7', randomText(37, 401));
const password = randomText(16, 402);
const stripe = token('sk', '_live_', randomText(24, 403));

function config(doc: object): Buffer {
  return Buffer.from(JSON.stringify(doc));
}

describe('scanConfig', () => {
  it('finds secrets in Env, Labels and history, naming the field', () => {
    const findings = scanConfig(
      config({
        architecture: 'amd64',
        config: {
          Env: ['PATH=/usr/local/bin:/usr/bin', `AWS_SECRET_ACCESS_KEY=${awsSecret}`, `GH=${ghToken}`],
          Labels: { 'org.opencontainers.image.source': 'https://example.com/x', 'deploy.api_token': password },
        },
        history: [
          { created_by: '/bin/sh -c #(nop) ADD file:abc in / ' },
          { created_by: `ARG GITHUB_TOKEN=${password}`, empty_layer: true },
          { created_by: `RUN |1 GITHUB_TOKEN=${password} /bin/sh -c npm ci # buildkit` },
          { created_by: `/bin/sh -c #(nop)  ENV DB_PASSWORD ${password}` },
          { created_by: `ENV STRIPE_KEY=${stripe}` },
        ],
      }),
    );

    expect(findings.map((f) => [f.path, f.rule])).toEqual([
      ['config.Env[1]', 'aws-secret-access-key'],
      ['config.Env[2]', 'github-token'],
      ['config.Labels.deploy.api_token', 'secret-assignment'],
      ['history[1].created_by', 'secret-assignment'],
      ['history[2].created_by', 'secret-assignment'],
      ['history[3].created_by', 'secret-assignment'],
      ['history[4].created_by', 'stripe-key'],
    ]);
    expect(findings[3]!.fingerprint).toBe(expectedFingerprint('secret-assignment', password));
    expect(findings.every((f) => f.line === undefined)).toBe(true);
    const text = JSON.stringify(findings);
    for (const secret of [ghToken, awsSecret, password, stripe]) expect(text).not.toContain(secret);
  });

  it('leaves ordinary and placeholder settings alone', () => {
    const findings = scanConfig(
      config({
        config: {
          Env: ['PATH=/usr/bin', 'GPG_KEY=A035C8C19219BA821ECEA86B64E628F8D684696D', 'DB_PASSWORD_FILE=/run/secrets/db', 'API_TOKEN='],
          Labels: { maintainer: 'team@example.com', 'secret.scan': 'true' },
        },
        history: [
          { created_by: 'ARG NPM_TOKEN' },
          { created_by: 'RUN |1 NPM_TOKEN=${NPM_TOKEN} /bin/sh -c npm ci' },
          { created_by: 'RUN /bin/sh -c echo "token=$(cat /run/secrets/t)"' },
        ],
      }),
    );

    expect(findings).toEqual([]);
  });

  it('scans a config that is not JSON as text, and tolerates missing fields', () => {
    expect(scanConfig(Buffer.from(`not json ${ghToken}`))).toMatchObject([{ path: 'config', rule: 'github-token' }]);
    expect(scanConfig(config({}))).toEqual([]);
    expect(scanConfig(config({ config: null, history: 'x' }))).toEqual([]);
  });
});
