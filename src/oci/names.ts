/** Repository, tag and reference grammar from the OCI Distribution Spec (PROTOCOLS.md §1.12). */
const COMPONENT = '[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*';
const REPOSITORY = new RegExp(`^${COMPONENT}(?:/${COMPONENT})*$`);
const TAG = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;

/** Repository names are capped like distribution/reference does. */
export const MAX_REPOSITORY_LENGTH = 255;

export function isRepositoryName(name: string): boolean {
  return name.length <= MAX_REPOSITORY_LENGTH && REPOSITORY.test(name);
}

export function isTag(value: string): boolean {
  return TAG.test(value);
}

/** Namespaces follow the repository grammar; `*` is the root that holds every repository. */
export function isNamespaceName(name: string): boolean {
  return name === '*' || isRepositoryName(name);
}

/** True when `repository` lies inside `namespace` (a whole path prefix, or the root `*`). */
export function inNamespace(repository: string, namespace: string): boolean {
  if (namespace === '*') return true;

  return repository === namespace || repository.startsWith(`${namespace}/`);
}
