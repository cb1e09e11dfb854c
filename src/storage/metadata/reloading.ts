import type { ChangeFeed } from './connect.js';

/**
 * A value built from the store and kept until the store reports a change (on PostgreSQL, a
 * change on any node), so that readers on the request path pay for a load only after a change.
 */
export class Reloading<T> {
  private loaded: { generation: string; value: T } | undefined;
  private loading: { generation: string; value: Promise<T> } | undefined;

  constructor(
    private readonly changes: ChangeFeed,
    private readonly load: (generation: string) => Promise<T>,
  ) {}

  /** The value as of the latest change. */
  current(): Promise<T> {
    const generation = this.changes.generation();
    if (this.loaded?.generation === generation) return Promise.resolve(this.loaded.value);
    // Requests at one generation share a load; a load begun at an older generation may have
    // read before the latest change committed, so a request that saw the change never joins it.
    if (this.loading?.generation !== generation) {
      const value = this.load(generation)
        .then((loaded) => {
          this.loaded = { generation, value: loaded };

          return loaded;
        })
        .finally(() => {
          if (this.loading?.value === value) this.loading = undefined;
        });
      this.loading = { generation, value };
    }

    return this.loading.value;
  }
}
