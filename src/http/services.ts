import type { AuditRecorder } from '../audit/recorder.js';
import type { Config } from '../config/schema.js';
import type { Authenticator } from '../identity/authenticate.js';
import type { Directory } from '../identity/directory.js';
import type { Federation } from '../identity/federation/service.js';
import type { PeopleLogin } from '../identity/people/login.js';
import type { LoginThrottle } from '../identity/throttle.js';
import type { TokenService } from '../identity/tokens.js';
import type { BlobService } from '../registry/blobs.js';
import type { ManifestService } from '../registry/manifests.js';
import type { UploadService } from '../registry/uploads.js';
import type { BlobDriver } from '../storage/blobs/driver.js';
import type { TrustService } from '../trust/index.js';
import type { MetadataStore } from '../storage/metadata/index.js';

/** Everything the HTTP layer talks to, built in `main.ts`. */
export interface Services {
  config: Config;
  store: MetadataStore;
  driver: BlobDriver;
  blobs: BlobService;
  uploads: UploadService;
  manifests: ManifestService;
  tokens: TokenService;
  directory: Directory;
  authenticator: Authenticator;
  federation: Federation;
  throttle: LoginThrottle;
  audit: AuditRecorder;
  trust: TrustService;
  /** Sign-in of people through the OpenID provider; absent without `auth.oidc`. */
  people?: PeopleLogin;
}
