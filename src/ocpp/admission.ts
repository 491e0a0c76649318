import { createHash, timingSafeEqual } from 'node:crypto';
import type { Queryable } from '../store/db.js';
import { autoRegisterCharger, type ChargerAdmission } from '../store/chargers.js';
import { AdmissionLookup } from './admission-lookup.js';
import { verifyPassword } from '../security/secrets.js';
import { PasswordBackoff } from './password-backoff.js';

export type AdmissionResult =
  | { ok: true; charger: ChargerAdmission }
  | { ok: false; status: 400 | 401 | 404; reason: string }
  | { ok: false; status: 429; reason: string; retryAfterSec: number };

const IDENTITY = /^[A-Za-z0-9*_=:+|@.-]{1,48}$/;

/**
 * Decides whether an identity may connect (DESIGN.md §2): registered (or
 * auto-registered into DYNAMO_AUTO_REGISTER's site), and presenting its
 * password as HTTP Basic if it has one (OCPP Security Profile 1/2).
 */
export class Admission {
  // scrypt is deliberately slow; a reconnect storm must not pay it per charger.
  // Remembers a digest of the last verified password for each stored hash.
  private readonly verified = new Map<string, { passwordHash: string; digest: Buffer }>();
  private readonly backoff = new PasswordBackoff();
  private readonly lookup: AdmissionLookup;

  constructor(
    private readonly db: Queryable,
    private readonly autoRegisterSiteId: string | undefined,
  ) {
    this.lookup = new AdmissionLookup(db);
  }

  /**
   * `clientCertCn` is the subject CN of a client certificate the TLS layer verified
   * against DYNAMO_TLS_CA (OCPP Security Profile 3). A certificate for this very
   * identity proves it on its own; a charger marked client_cert_required needs one.
   * `remoteAddress` keys the backoff after wrong passwords (with the identity).
   */
  async admit(identity: string, password: Buffer | undefined, clientCertCn?: string, remoteAddress: string | null = null): Promise<AdmissionResult> {
    if (!IDENTITY.test(identity)) return { ok: false, status: 400, reason: 'identity is not a valid OCPP identifier' };
    const waitMs = this.backoff.waitMs(identity, remoteAddress);
    if (waitMs > 0) return { ok: false, status: 429, reason: 'too many wrong passwords; retry later', retryAfterSec: Math.ceil(waitMs / 1000) };
    let charger = await this.lookup.find(identity);
    if (!charger && this.autoRegisterSiteId) charger = await autoRegisterCharger(this.db, identity, this.autoRegisterSiteId);
    if (!charger) return { ok: false, status: 404, reason: 'unknown charger' };
    if (clientCertCn === identity) return { ok: true, charger };
    if (charger.client_cert_required) return { ok: false, status: 401, reason: 'client certificate for this identity required' };
    if (charger.password_hash) {
      if (!password) return { ok: false, status: 401, reason: 'password required' };
      if (!(await this.passwordMatches(identity, charger.password_hash, password))) {
        this.backoff.failed(identity, remoteAddress);
        return { ok: false, status: 401, reason: 'wrong password' };
      }
      this.backoff.succeeded(identity, remoteAddress);
    }
    return { ok: true, charger };
  }

  private async passwordMatches(identity: string, passwordHash: string, password: Buffer): Promise<boolean> {
    const digest = createHash('sha256').update(password).digest();
    const known = this.verified.get(identity);
    if (known && known.passwordHash === passwordHash) return timingSafeEqual(known.digest, digest);
    const ok = await verifyPassword(password, passwordHash);
    if (ok) this.verified.set(identity, { passwordHash, digest });
    return ok;
  }
}
