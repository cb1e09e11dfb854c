import type { JWTPayload } from 'jose';
import type { OidcLoginConfig } from '../../config/schema.js';
import { RegistryError } from '../../errors/registry-error.js';
import type { MetadataStore } from '../../storage/metadata/index.js';
import type { PersonRecord } from '../../storage/metadata/people.js';
import { hashPassword } from '../passwords.js';
import { randomToken } from './pkce.js';

/** Local user names: a person from the provider becomes a user with the same rules. */
const USER_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;
/** Group names as `portcullis group grant` accepts them; other groups from the provider are ignored. */
export const GROUP_NAME = /^[A-Za-z0-9][A-Za-z0-9._:@/-]{0,127}$/;
const MAX_GROUPS = 256;

/** Who the ID token says signed in. */
export interface Identity {
  /** `<issuer>|<sub>`: stable at the provider, unlike names. */
  subject: string;
  name: string;
  groups: string[];
}

/**
 * Reads the person from verified ID token claims: the name from the configured claim, else
 * `email`, else `sub`, whichever is first present and a valid user name once lower-cased; and
 * the groups claim (a list of strings, or one string; absent means none).
 */
export function identityOf(claims: JWTPayload, config: OidcLoginConfig): Identity {
  const tried = [config.usernameClaim, 'email', 'sub'];
  const name = tried
    .map((claim) => claims[claim])
    .filter((value): value is string => typeof value === 'string')
    // Checked before lower-casing: Unicode look-alikes (such as the Kelvin sign) lower-case to ASCII.
    .filter((value) => USER_NAME.test(value.toLowerCase()) && /^[A-Za-z0-9._-]+$/.test(value))
    .map((value) => value.toLowerCase())
    .at(0);
  if (!name) {
    throw new RegistryError(
      'DENIED',
      `sign-in refused: none of the claims ${tried.join(', ')} is a valid user name (1-64 characters: a-z, 0-9, ".", "_", "-"); set auth.oidc.usernameClaim`,
    );
  }
  const raw = claims[config.groupsClaim];
  const list = Array.isArray(raw) ? raw : typeof raw === 'string' ? [raw] : [];
  const groups = [...new Set(list.filter((g): g is string => typeof g === 'string' && GROUP_NAME.test(g)))].sort().slice(0, MAX_GROUPS);

  // Distinct subjects must stay distinct: only a string `sub` names a person.
  if (typeof claims.sub !== 'string' || claims.sub.length === 0 || claims.sub.length > 255) {
    throw new RegistryError('DENIED', 'sign-in refused: the ID token\'s "sub" is not a string of 1-255 characters');
  }

  return { subject: `${config.issuer}|${claims.sub}`, name, groups };
}

/**
 * Finds the person by subject or creates them, and records their current groups. A name held by
 * a local user or by another person of the provider is refused rather than merged: taking over
 * an account must be an admin's decision. Disabled people are refused.
 */
export async function provision(store: MetadataStore, who: Identity): Promise<PersonRecord> {
  const people = store.principals.people;
  let person = await people.byExternalSubject(who.subject);
  if (!person) {
    const holder = await people.byName(who.name);
    if (holder) throw nameTaken(who.name, holder);
    // Nobody knows this password: people sign in at the provider only.
    const unusable = await hashPassword(randomToken());
    try {
      person = await people.create(who.name, unusable, who.subject, who.groups);
    } catch (err) {
      // Another node created them a moment ago, or took the name: look again.
      person = await people.byExternalSubject(who.subject);
      if (!person) {
        const other = await people.byName(who.name);
        if (other) throw nameTaken(who.name, other);
        throw err;
      }
    }
  }
  if (person.disabled) throw new RegistryError('DENIED', `sign-in refused: user ${person.name} is disabled`);
  if (!sameList(person.groups, who.groups)) {
    await people.setGroups(person.id, who.groups);
    person = { ...person, groups: who.groups };
  }

  return person;
}

function nameTaken(name: string, holder: PersonRecord): RegistryError {
  const whose = holder.externalSubject === null ? 'a local user' : 'another person of the OpenID provider';

  return new RegistryError('DENIED', `sign-in refused: ${whose} named ${name} exists; an admin must resolve it`);
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
